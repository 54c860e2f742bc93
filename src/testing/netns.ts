// Separate hosts on one machine, for tests: each a Linux network namespace joined to this one
// by two veth pairs, a "database network" and a "Kafka network", so that a test can cut a host
// off from the database while it still reaches Kafka. Needs root and iproute2 (`ip`).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const RELAY = fileURLToPath(new URL('relay-cli.ts', import.meta.url));

export interface NetHost {
  /** The namespace's name: `ip netns exec NAME ...` runs a process on this host. */
  name: string;
  /** Runs a command on this host (prefix for spawn). */
  command(argv: string[]): string[];
  /** An address and port on the database network at which this host reaches `target` (host:port on loopback here). */
  reachDatabase(targetPort: number): Promise<{ host: string; port: number }>;
  /** Makes `127.0.0.1:port` on this host reach the same port on this machine's loopback, over the Kafka network. */
  mirrorLoopbackPort(port: number): Promise<void>;
  /** Drops every packet on the database network, both ways, as a failed switch would: no reset, no reply. */
  cutDatabaseNetwork(): void;
  close(): Promise<void>;
}

/** Why network namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) {
    return 'network namespaces need iproute2 (ip): apt-get install iproute2';
  }
  return undefined;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Host number `index` (0..63) of this test process; subnets 10.231.x.y (database) and 10.232.x.y (Kafka). */
export async function createNetHost(index: number): Promise<NetHost> {
  const tag = `${process.pid % 100000}x${index}`;
  const name = `atlas-${tag}`;
  const third = process.pid % 250;
  const links = ['d', 'k'].map((kind, n) => ({
    outside: `v${kind}${tag}o`, inside: `v${kind}${tag}i`,
    hostAddress: `10.${231 + n}.${third}.${4 * index + 1}`, address: `10.${231 + n}.${third}.${4 * index + 2}`,
  }));
  const relays: TcpProxy[] = [];
  const children: ChildProcess[] = [];
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    for (const link of links) {
      ip('link', 'add', link.outside, 'type', 'veth', 'peer', 'name', link.inside);
      ip('link', 'set', link.inside, 'netns', name);
      ip('addr', 'add', `${link.hostAddress}/30`, 'dev', link.outside);
      ip('link', 'set', link.outside, 'up');
      ip('-n', name, 'addr', 'add', `${link.address}/30`, 'dev', link.inside);
      ip('-n', name, 'link', 'set', link.inside, 'up');
    }
  } catch (error) {
    spawnSync('ip', ['netns', 'del', name]);
    for (const link of links) spawnSync('ip', ['link', 'del', link.outside]);
    throw error;
  }
  const [database, kafka] = links as [typeof links[0], typeof links[0]];
  return {
    name,
    command: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    async reachDatabase(targetPort) {
      const relay = await startTcpProxy('127.0.0.1', targetPort, { host: database.hostAddress });
      relays.push(relay);
      return { host: database.hostAddress, port: relay.port };
    },
    async mirrorLoopbackPort(port) {
      const relay = await startTcpProxy('127.0.0.1', port, { host: kafka.hostAddress });
      relays.push(relay);
      const child = spawn('ip', ['netns', 'exec', name, process.execPath, '--import', 'tsx', RELAY, String(port), kafka.hostAddress, String(relay.port)],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      await new Promise<void>((ready, fail) => {
        child.stdout!.once('data', () => ready());
        child.once('exit', (code) => fail(new Error(`the relay in ${name} exited ${code}`)));
      });
    },
    cutDatabaseNetwork() {
      // Blackhole routes on both ends: packets are discarded in silence (this kernel may lack netem).
      ip('-n', name, 'route', 'add', 'blackhole', `${database.hostAddress}/32`);
      ip('route', 'add', 'blackhole', `${database.address}/32`);
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(relays.map((r) => r.close()));
      // Deleting the namespace deletes the veth ends inside it, and with them their peers.
      spawnSync('ip', ['netns', 'del', name]);
      for (const link of links) {
        spawnSync('ip', ['link', 'del', link.outside], { stdio: 'ignore' });
        spawnSync('ip', ['route', 'del', 'blackhole', `${link.address}/32`], { stdio: 'ignore' });
      }
    },
  };
}
