/**
 * Browser PKCE login: a callback listener on 127.0.0.1:1455 (else 1457), the
 * authorize URL opened and printed, and the code exchanged for tokens. A
 * pasted redirect URL is accepted too, for a browser on another machine.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { buildAuthorizeUrl } from "./authorize-url.js";
import { CALLBACK_PORTS } from "./constants.js";
import { exchangeCode, type TokenResponse } from "./oauth-client.js";
import { createPkce, randomToken } from "./pkce.js";

export interface BrowserLoginOptions {
  issuer: string;
  fetch: typeof fetch;
  /** Ports to try in order; the vendor only accepts 1455 and 1457. */
  ports?: readonly number[];
  timeoutMs: number;
  /** Called with the authorize URL once the listener is up: print it, open the browser. */
  onUrl: (url: string) => void | Promise<void>;
  /** Resolves with a redirect URL the user pasted (optional). */
  pastedRedirect?: Promise<string | undefined>;
  signal?: AbortSignal;
}

export class LoginError extends Error {}

const SUCCESS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>codex-proxy: signed in</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;text-align:center">
<h1>Signed in</h1><p>codex-proxy has your ChatGPT login. You can close this tab and return to the terminal.</p></body></html>`;

function page(title: string, message: string): string {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>codex-proxy: ${escape(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto"><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>`;
}

async function listenOnFirstFreePort(server: http.Server, ports: readonly number[]): Promise<number> {
  for (const port of ports) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
  }
  throw new LoginError(`Ports ${ports.join(" and ")} on 127.0.0.1 are in use (another login running?). Close it, or use \`codex-proxy login --device\`.`);
}

function describeCallbackError(error: string, description: string | null): string {
  if (description?.includes("missing_codex_entitlement")) return "Codex is not enabled for this ChatGPT workspace (missing_codex_entitlement). Ask your workspace admin, or use another account.";
  return `The sign-in was not completed: ${error}${description ? ` (${description})` : ""}.`;
}

export async function runBrowserLogin(options: BrowserLoginOptions): Promise<TokenResponse> {
  const pkce = await createPkce();
  const state = randomToken(32);
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const codePromise = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, html: string) => {
      // Connection: close, so a kept-alive socket cannot hang the next login (PROTOCOL §1.2 step 9).
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", connection: "close" });
      res.end(html);
    };
    if (url.pathname === "/cancel") {
      send(200, page("Cancelled", "This login was cancelled."));
      settle.reject(new LoginError("Login cancelled by another login attempt."));
      return;
    }
    if (url.pathname !== "/auth/callback") return send(404, page("Not found", "Nothing here."));
    const error = url.searchParams.get("error");
    if (error) {
      const message = describeCallbackError(error, url.searchParams.get("error_description"));
      send(400, page("Sign-in failed", message));
      settle.reject(new LoginError(message));
      return;
    }
    if (url.searchParams.get("state") !== state) return send(400, page("State mismatch", "This link does not belong to the running login. Start the login again from the terminal."));
    const code = url.searchParams.get("code");
    if (!code) return send(400, page("Missing code", "The redirect carried no authorization code."));
    send(200, SUCCESS_PAGE);
    settle.resolve(code);
  });

  const port = await listenOnFirstFreePort(server, options.ports ?? CALLBACK_PORTS);
  const redirectUri = `http://localhost:${port}/auth/callback`;
  const timer = setTimeout(() => settle.reject(new LoginError(`Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for the browser. Run the login again, or use \`codex-proxy login --device\`.`)), options.timeoutMs);
  options.signal?.addEventListener("abort", () => settle.reject(new LoginError("Login aborted.")), { once: true });
  options.pastedRedirect?.then((pasted) => {
    if (!pasted) return;
    try {
      const url = new URL(pasted.trim());
      if (url.searchParams.get("state") !== state) return settle.reject(new LoginError("The pasted URL belongs to a different login attempt (state mismatch)."));
      const code = url.searchParams.get("code");
      if (code) settle.resolve(code);
      else settle.reject(new LoginError(describeCallbackError(url.searchParams.get("error") ?? "no code", url.searchParams.get("error_description"))));
    } catch {
      settle.reject(new LoginError("That is not a URL. Paste the whole address the browser was redirected to."));
    }
  });

  try {
    await options.onUrl(buildAuthorizeUrl(options.issuer, redirectUri, pkce.challenge, state));
    const code = await codePromise;
    return await exchangeCode(options.fetch, options.issuer, code, redirectUri, pkce.verifier);
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}
