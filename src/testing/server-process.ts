// The server as a user runs it: `atlas-streams-emulator serve` in its own process, with
// the connection details read off the banner it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface ServerProcess {
  url: string;
  orgId: string;
  projectId: string;
  publicKey: string;
  privateKey: string;
  /** Everything it printed so far. */
  text: string;
  child: ChildProcess;
}

const BANNER = /listening on (\S+)[\s\S]*organization:\s+(\w+)\s+project:\s+(\w+)\s+API key:\s+public (\w+)\s+private (.+)\n/;

export function startServerProcess(args: string[], env: Record<string, string> = {}, command: string[] = [process.execPath, CLI], cwd?: string): Promise<ServerProcess> {
  // Its own process group, so that stopping it also stops the server behind a wrapper (npx).
  const child = spawn(command[0]!, [...command.slice(1), 'serve', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd,
  });
  let text = '';
  return new Promise((resolveBanner, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = BANNER.exec(text);
      // `text` keeps growing: a test reads log lines written later.
      if (m) resolveBanner({ url: m[1]!, orgId: m[2]!, projectId: m[3]!, publicKey: m[4]!, privateKey: m[5]!.trim(), get text() { return text; }, child });
    });
    child.stderr!.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${text}`)));
  });
}

/** SIGTERM (a clean stop) by default; SIGKILL to crash it. The signal goes to its whole process group. */
export function stopServerProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
    child.once('exit', () => resolveStop());
    try {
      process.kill(-child.pid!, signal);
    } catch {
      child.kill(signal);
    }
  });
}
