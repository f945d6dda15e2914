/**
 * Node runtime entry: the shared h3 app behind listhen, with graceful
 * shutdown. Credential wiring is done by the caller (`serve`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen, type Listener } from "listhen";
import type { AppDeps } from "../server/app.js";
import type { NodeFetch } from "./upstream-fetch.js";

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
  // The app is built on the first request: h3, srvx and the web Request/Response classes behind
  // them (undici) are about 12 MiB that a `serve` left idle need not hold.
  let upstream: NodeFetch | undefined;
  let handler: Promise<(req: IncomingMessage, res: ServerResponse) => unknown> | undefined;
  const buildHandler = async () => {
    const [{ toNodeHandler }, { createApp }, { createNodeFetch }, { nodeStreamRuntime }] = await Promise.all([
      import("h3/node"),
      import("../server/app.js"),
      import("./upstream-fetch.js"),
      import("./stream-runtime.js"),
    ]);
    upstream = createNodeFetch();
    const { app } = createApp({ streams: nodeStreamRuntime, fetch: upstream.fetch, ...options });
    return toNodeHandler(app);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handler ??= buildHandler();
    handler.then(
      (handle) => handle(req, res),
      (error: unknown) => {
        options.logger.error("could not start the app", { error: error instanceof Error ? error.message : "unknown" });
        res.statusCode = 500;
        res.end();
      },
    );
  };
  const portInUse = () =>
    new PortInUseError(
      `Port ${options.port} on ${options.host} is already in use. Choose another with --port or PORT.`,
    );
  const listener: Listener = await listen(onRequest, {
    // Port 0 asks for any free port. Without `random`, get-port-please reads 0 as "unset" and
    // takes 3000, so two `serve --port 0` could both pick 3000 and one crashed.
    port:
      options.port === 0
        ? { port: 0, random: true }
        : { port: options.port, random: false, alternativePortRange: [options.port, options.port] },
    hostname: options.host,
    showURL: false,
    open: false,
    clipboard: false,
    qr: false,
    isTest: true, // keeps listhen quiet; we print our own banner
    autoClose: false,
    public: !["127.0.0.1", "localhost", "::1"].includes(options.host),
  }).catch((error: unknown) => {
    // get-port-please found the port taken (GetPortError), or another process took it in between.
    const code = (error as NodeJS.ErrnoException).code;
    if ((error as Error).name === "GetPortError" || code === "EADDRINUSE") throw portInUse();
    throw error;
  });
  const port = listener.address.port;
  if (options.port !== 0 && port !== options.port) {
    await listener.close();
    throw portInUse();
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
          upstream?.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
