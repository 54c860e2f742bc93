// A TCP relay as a process of its own, for a network namespace (`ip netns exec NS node --import
// tsx src/testing/relay-cli.ts LISTEN_PORT TARGET_HOST TARGET_PORT`): a test process cannot
// listen inside another namespace. Prints "ready" once listening on the namespace's loopback.
import { startTcpProxy } from './tcp-proxy.js';

const [listenPort, targetHost, targetPort] = process.argv.slice(2);
await startTcpProxy(targetHost!, Number(targetPort), { port: Number(listenPort) });
process.stdout.write('ready\n');
