// A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl at
// test time (no network, nothing checked in), so that clients which insist on HTTPS
// (the MCP server's OAuth library, curl --cacert) can be tested against a real server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  /** PEM certificate: pass as tlsCert, and to clients as their trusted CA (it is its own issuer). */
  certFile: string;
  /** PEM private key: pass as tlsKey. */
  keyFile: string;
  /** The certificate's PEM text, for clients that take the CA inline. */
  ca: string;
  /** The temporary directory holding both files. */
  dir: string;
  /** Removes the temporary directory. */
  remove(): void;
}

const OPENSSL_CONFIG = `[req]
distinguished_name = dn
x509_extensions = ext
prompt = no

[dn]
CN = localhost
O = atlas-streams-emulator tests

[ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyEncipherment, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
`;

/** Makes a fresh key and self-signed certificate (valid for a day) in a new temporary directory. */
export function makeTestCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-streams-tls-'));
  const configFile = join(dir, 'openssl.cnf');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(configFile, OPENSSL_CONFIG);
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-keyout', keyFile, '-out', certFile, '-config', configFile,
    ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8') ?? '';
    throw new Error(`openssl could not make a test certificate: ${stderr || String(error)}`);
  }
  return {
    certFile, keyFile, dir,
    ca: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
