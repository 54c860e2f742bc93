// librdkafka's mock cluster, started through Debian's `kcat` (see src/engine/README.md): a real
// Kafka protocol peer for kafkajs tests. Topics auto-create with 4 partitions.
import { spawn, spawnSync } from 'node:child_process';

export function kcatAvailable(): boolean {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface MockKafka {
  bootstrapServers: string;
  stop(): Promise<void>;
}

export function startMockKafka(): Promise<MockKafka> {
  // A consumer keeps kcat (and so the cluster) alive; `-d mock` prints the bootstrap address.
  const child = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-d', 'mock', '-b', '127.0.0.1:1', '-C', '-q', '-t', '__mock_keepalive'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error('kcat mock cluster did not report its address')), 10_000);
    child.on('error', reject);
    // Keep draining stderr: the mock's debug output would otherwise fill the pipe and stall it.
    child.stderr.on('data', (chunk: Buffer) => {
      if (seen === null) return;
      seen += chunk.toString();
      const match = /bootstrap\.servers=(\S+)/.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      seen = null as unknown as string;
      resolve({
        bootstrapServers: match[1]!,
        stop: () => new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
      });
    });
  });
}
