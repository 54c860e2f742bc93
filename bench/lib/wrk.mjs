// wrk (C, multi-threaded) as the load generator for everything it can express: it outruns
// bare node:http on the same machine, which a Node client cannot.
import { spawn, spawnSync } from 'node:child_process';

/**
 * Finds a command, installing Debian's package of the same name when we may (root, apt-get
 * present); undefined when neither works.
 */
export function findOrInstall(command) {
  const found = () => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || undefined;
  if (found()) return found();
  if (process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get']).status === 0) {
    console.log(`installing ${command} (apt-get install -y ${command})...`);
    spawnSync('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=300', command], { stdio: 'ignore' });
  }
  return found();
}

export function ensureWrk() {
  const wrk = findOrInstall('wrk');
  if (wrk) return wrk;
  throw new Error('The API benchmark needs wrk as its load generator and could not find or install it: '
    + 'install it (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk) and run again.');
}

/**
 * One wrk run; returns requests/s, latency percentiles (ms) and the non-2xx/3xx count.
 * `script` is Lua source for wrk's -s (written to a temporary file by the caller).
 */
export function runWrk(wrk, url, { connections, seconds, threads = 2, headers = {}, script }) {
  const args = ['-t', String(Math.min(threads, connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (script) args.push('-s', script);
  args.push(url);
  return new Promise((resolveRun, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.once('error', reject);
    child.once('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      if (code !== 0 || !rps) return reject(new Error(`wrk failed (${code}): ${out}`));
      const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)`, 'm').exec(out)?.[1]);
      const bad = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      const errors = /Socket errors:.*/.exec(out);
      resolveRun({ rps: Number(rps[1]), p50: pct(50), p99: pct(99), non2xx: bad ? Number(bad[1]) : 0, socketErrors: errors?.[0] });
    });
  });
}

function toMs(text) {
  if (!text) return NaN;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2]];
  return Number(m[1]) * scale;
}
