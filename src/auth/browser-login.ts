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
import { formatDuration } from "../core/time.js";

/**
 * Offers the user to paste the address their browser ended on. `take` returns
 * why a paste cannot be used (ask again), or undefined once the login took it.
 * Asking stops when `signal` aborts (the login ended, one way or another).
 */
export type PasteRedirect = (take: (pasted: string) => string | undefined, signal: AbortSignal) => void;

export interface BrowserLoginOptions {
  issuer: string;
  fetch: typeof fetch;
  /** Ports to try in order; the vendor only accepts 1455 and 1457. */
  ports?: readonly number[];
  timeoutMs: number;
  /** Called with the authorize URL once the listener is up: print it, open the browser. */
  onUrl: (url: string) => void | Promise<void>;
  /** Offers to take a pasted redirect URL (a browser on another machine). */
  pasteRedirect?: PasteRedirect;
  signal?: AbortSignal;
}

export class LoginError extends Error {}

const SUCCESS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>codex-proxy: signed in</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;text-align:center">
<h1>Signed in</h1><p>codex-proxy has your ChatGPT login. You can close this tab and return to the terminal.</p></body></html>`;

function page(title: string, message: string): string {
  const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>codex-proxy: ${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
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
  throw new LoginError(
    `Ports ${ports.join(" and ")} on 127.0.0.1 are in use (another login running?). Close it, or use \`codex-proxy login --device\`.`,
  );
}

function describeCallbackError(error: string, description: string | null): string {
  if (description?.includes("missing_codex_entitlement"))
    return "Codex is not enabled for this ChatGPT workspace (missing_codex_entitlement). Ask your workspace admin, or use another account.";
  return `The sign-in was not completed: ${error}${description ? ` (${description})` : ""}.`;
}

/** What a redirect to the callback carries: a code, the issuer's error (final), or why it cannot be used. */
type Redirect = { code: string } | { failure: LoginError } | { unusable: string };

/** The one reading of a redirect, for the browser's request to the callback and for a pasted address alike. */
function readRedirect(url: URL, state: string): Redirect {
  const error = url.searchParams.get("error");
  if (error)
    return { failure: new LoginError(describeCallbackError(error, url.searchParams.get("error_description"))) };
  if (url.searchParams.get("state") !== state)
    return { unusable: "This address belongs to a different login attempt (state mismatch)." };
  const code = url.searchParams.get("code");
  if (!code) return { unusable: "This address carries no authorization code." };
  return { code };
}

export async function runBrowserLogin(options: BrowserLoginOptions): Promise<TokenResponse> {
  const pkce = await createPkce();
  const state = randomToken(32);
  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const codePromise = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, html: string) => {
      // Connection: close, so a kept-alive socket cannot hang the next login (docs/protocol.md §1.2 step 8).
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", connection: "close" });
      res.end(html);
    };
    if (url.pathname === "/cancel") {
      send(200, page("Cancelled", "This login was cancelled."));
      settle.reject(new LoginError("Login cancelled by another login attempt."));
      return;
    }
    if (url.pathname !== "/auth/callback") return send(404, page("Not found", "Nothing here."));
    const redirect = readRedirect(url, state);
    if ("unusable" in redirect)
      return send(
        400,
        page("Sign-in not completed", `${redirect.unusable} Finish the sign-in started from the terminal.`),
      );
    if ("failure" in redirect) {
      send(400, page("Sign-in failed", redirect.failure.message));
      settle.reject(redirect.failure);
      return;
    }
    send(200, SUCCESS_PAGE);
    settle.resolve(redirect.code);
  });

  const port = await listenOnFirstFreePort(server, options.ports ?? CALLBACK_PORTS);
  const redirectUri = `http://localhost:${port}/auth/callback`;
  const timer = setTimeout(
    () =>
      settle.reject(
        new LoginError(
          `Timed out after ${formatDuration(options.timeoutMs)} waiting for the browser. Run the login again, or use \`codex-proxy login --device\`.`,
        ),
      ),
    options.timeoutMs,
  );
  options.signal?.addEventListener("abort", () => settle.reject(new LoginError("Login aborted.")), { once: true });
  // A mistyped or stale paste is explained and asked again; a code, or the issuer's error, ends the login.
  const pasteAbort = new AbortController();
  const takePasted = (pasted: string): string | undefined => {
    let url: URL;
    try {
      url = new URL(pasted.trim());
    } catch {
      return "That is not a URL: paste the whole address the browser was redirected to (http://localhost:…/auth/callback?code=…).";
    }
    const redirect = readRedirect(url, state);
    if ("unusable" in redirect) return `${redirect.unusable} Paste the address this login's browser ended on.`;
    if ("failure" in redirect) settle.reject(redirect.failure);
    else settle.resolve(redirect.code);
    return undefined;
  };
  try {
    await options.onUrl(buildAuthorizeUrl(options.issuer, redirectUri, pkce.challenge, state));
    options.pasteRedirect?.(takePasted, pasteAbort.signal);
    const code = await codePromise;
    return await exchangeCode(options.fetch, options.issuer, code, redirectUri, pkce.verifier);
  } finally {
    clearTimeout(timer);
    pasteAbort.abort();
    server.closeAllConnections();
    server.close();
  }
}
