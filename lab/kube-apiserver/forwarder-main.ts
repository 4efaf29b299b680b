// The lab's way to its API server: run inside the lab's underlay namespace (`ip netns exec`), it
// listens on a unix socket in the lab's directory, which any namespace reaches, and joins each
// connection to the API server's address there. Bytes only: TLS runs end to end, so the lab's
// client still checks the server's certificate for that address.
//
//   node forwarder-main.js SOCKET HOST PORT
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

const [socket, host, port] = process.argv.slice(2);
if (socket === undefined || host === undefined || port === undefined) {
  process.stderr.write('usage: forwarder-main.js SOCKET HOST PORT\n');
  process.exit(2);
}
// A socket file left by a killed forwarder would make listen() fail with EADDRINUSE.
rmSync(socket, { force: true });
const server = createServer((client) => {
  const upstream = connect(Number(port), host);
  client.pipe(upstream).pipe(client);
  // Either side ending or failing ends the other: no half-open pairs pile up.
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
server.listen(socket);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));
