/**
 * Node runtime entry: the shared h3 app behind listhen, with graceful
 * shutdown. Credential wiring is done by the caller (`serve`).
 */
import { toNodeHandler } from "h3/node";
import { createNodeFetch } from "./node-fetch.js";
import { nodeStreamRuntime } from "./node-runtime.js";
import { listen, type Listener } from "listhen";
import { createApp, type AppDeps } from "./server/app.js";

export interface StartServerOptions extends AppDeps {
  port: number;
  host: string;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, lets open streams finish for up to `graceMs`, then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

export class PortInUseError extends Error {}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const upstream = createNodeFetch();
  const { app } = createApp({ streams: nodeStreamRuntime, fetch: upstream.fetch, ...options });
  const listener: Listener = await listen(toNodeHandler(app), {
    port: { port: options.port, random: false, alternativePortRange: [options.port, options.port] },
    hostname: options.host,
    showURL: false,
    open: false,
    clipboard: false,
    qr: false,
    isTest: true, // keeps listhen quiet; we print our own banner
    autoClose: false,
    public: !["127.0.0.1", "localhost", "::1"].includes(options.host),
  });
  const port = listener.address.port;
  if (options.port !== 0 && port !== options.port) {
    await listener.close();
    throw new PortInUseError(`Port ${options.port} on ${options.host} is already in use. Choose another with --port or PORT.`);
  }
  const server = listener.server;
  // Streams can be long; the default 5 s keep-alive and request timeouts are for short requests.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          upstream.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
