/**
 * Node runtime entry: the shared h3 app behind listhen, with graceful
 * shutdown. Credential wiring is done by the caller (`serve`).
 */
import { lookup } from "node:dns/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP, createServer as createNetServer, type AddressInfo } from "node:net";
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
  /** The address actually bound (`127.0.0.1`, `::1`, `0.0.0.0`…). */
  address: string;
  /** Stops accepting, lets open streams finish for up to `graceMs`, then closes the rest. */
  close(graceMs?: number): Promise<void>;
}

/** The server could not listen where it was asked to; the message says why. */
class ListenError extends Error {}
class PortInUseError extends ListenError {}

/**
 * Host names listhen takes as they are; for any other it warns and listens on
 * every interface instead, which must never happen silently.
 */
const LISTHEN_HOSTNAME_RE = /^(?!-)[\d.:A-Za-z-]{1,63}(?<!-)$/;
const ANY_ADDRESS = new Set(["0.0.0.0", "::"]);

/** A specific IP address the user chose to bind is a Host name its clients use; an IP cannot be rebound. */
function withBindAddress(allowedHosts: string[], host: string): string[] {
  const version = isIP(host);
  if (!version || ANY_ADDRESS.has(host)) return allowedHosts;
  return [...allowedHosts, version === 6 ? `[${canonicalAddress(host)}]` : host];
}

/** `[::1]` → `::1`: Node and listhen take IPv6 literals without brackets. */
function bindHost(host: string): string {
  const trimmed = host.trim();
  return trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
}

/** One spelling per address, so that `0:0:0:0:0:0:0:1` and `::1` compare equal. */
function canonicalAddress(address: string): string {
  return isIP(address) === 6 ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
}

/** The addresses `host` may bind; a name that does not resolve is refused here. */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [canonicalAddress(host)];
  try {
    return (await lookup(host, { all: true })).map((entry) => canonicalAddress(entry.address));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "lookup failed";
    throw new ListenError(
      `Cannot listen on "${host}": the name does not resolve to an address (${code}). Use an IP address of this machine, such as 127.0.0.1.`,
    );
  }
}

/** get-port-please hides why a port could not be had; trying it directly tells. */
function listenErrorCode(port: number, host: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

function listenFailure(code: string | undefined, port: number, host: string): ListenError {
  switch (code) {
    case "EADDRINUSE":
      return new PortInUseError(`Port ${port} on ${host} is already in use. Choose another with --port or PORT.`);
    case "EADDRNOTAVAIL":
      return new ListenError(
        `Cannot listen on ${host}: it is not an address of this machine (EADDRNOTAVAIL). Use one of its addresses, such as 127.0.0.1.`,
      );
    case "EACCES":
      return new ListenError(
        `Cannot listen on port ${port} of ${host}: permission denied (EACCES). Ports below 1024 need privileges; choose another with --port or PORT.`,
      );
    default:
      return new ListenError(`Cannot listen on ${host} port ${port}${code ? ` (${code})` : ""}.`);
  }
}

/** `[::1]` → `::1`, and a host listhen would not take (it would listen everywhere instead) is refused. */
export function validBindHost(requested: string): string {
  const host = bindHost(requested);
  if (!isIP(host) && !LISTHEN_HOSTNAME_RE.test(host)) {
    throw new ListenError(
      `Cannot listen on "${requested}": it is not a valid host. Use an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name.`,
    );
  }
  return host;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const host = validBindHost(options.host);
  const expected = await addressesOf(host);
  const config = { ...options.config, allowedHosts: withBindAddress(options.config.allowedHosts, host) };
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
    const { app } = createApp({ streams: nodeStreamRuntime, fetch: upstream.fetch, ...options, config });
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
  const listener: Listener = await listen(onRequest, {
    // Port 0 asks for any free port. Without `random`, get-port-please reads 0 as "unset" and
    // takes 3000, so two `serve --port 0` could both pick 3000 and one crashed.
    port:
      options.port === 0
        ? { port: 0, random: true }
        : { port: options.port, random: false, alternativePortRange: [options.port, options.port] },
    hostname: host,
    showURL: false,
    open: false,
    clipboard: false,
    qr: false,
    isTest: true, // keeps listhen quiet; we print our own banner
    autoClose: false,
    public: !["127.0.0.1", "localhost", "::1"].includes(host),
  }).catch(async (error: unknown) => {
    upstream?.close();
    // get-port-please found no port it could bind (GetPortError, cause unsaid), or listen failed.
    const code = (error as NodeJS.ErrnoException).code ?? (await listenErrorCode(options.port, host));
    throw listenFailure(code, options.port, host);
  });
  const server = listener.server;
  const bound = server.address() as AddressInfo;
  const port = bound.port;
  // Refuse to run anywhere but where asked: a fallback to every interface would expose a keyless proxy.
  const wrongAddress = !expected.includes(canonicalAddress(bound.address));
  if (wrongAddress || (options.port !== 0 && port !== options.port)) {
    await listener.close();
    upstream?.close();
    throw wrongAddress
      ? new ListenError(
          `Asked to listen on ${options.host} but bound ${bound.address}; refusing to run. Use an IP address of this machine, such as 127.0.0.1.`,
        )
      : listenFailure("EADDRINUSE", options.port, host);
  }
  // Streams can be long; the default 5 s keep-alive and request timeouts are for short requests.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  const hostForUrl = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    address: bound.address,
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
