/** Network helpers for tests: every server in the suite binds 127.0.0.1 only. */
import net from "node:net";

/** A port that was free a moment ago (bound and released), for programs that must be told their port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
