// Free TCP ports for a lab or test etcd on this host's namespace. A port found free can still be
// taken before etcd binds it: the caller retries on "address already in use".
import { createServer, type Server } from 'node:net';

/** Two distinct free ports on `host`: both sockets are held at once so they differ. */
export async function twoFreePorts(host: string): Promise<{ readonly first: number; readonly second: number }> {
  const servers = await Promise.all([listenOnFreePort(host), listenOnFreePort(host)]);
  const [first, second] = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return { first: first ?? 0, second: second ?? 0 };
}

function listenOnFreePort(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) => reject(new Error(`etcd: cannot find a free port on ${host}: ${error.message}`)));
    server.listen(0, host, () => resolve(server));
  });
}
