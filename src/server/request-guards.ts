/**
 * Guards against the two ways a web page can reach a proxy that runs on the
 * user's own machine with no key:
 *
 * - cross-site requests (CSRF): a page can POST a form or a `text/plain` body
 *   without a CORS preflight. Only JSON content types are accepted on JSON
 *   routes, and a request whose `Origin` is not listed in CORS_ORIGINS is refused.
 * - DNS rebinding: a page on `evil.example` whose name is re-pointed at
 *   127.0.0.1 sends `Host: evil.example`. Without a key, only Host names that
 *   mean this machine (or are listed in ALLOWED_HOSTS) are answered.
 *
 * The guards are runtime-neutral and take an error-shape function, so routes
 * with another API's error shape (or other body types) can plug them in.
 */
import type { H3Event, Middleware } from "h3";
import { ProxyError } from "../core/errors.js";

/** Renders a refusal in the shape of the API the request was made to. */
export type ErrorShape = (error: ProxyError, event: H3Event) => Response;

/** Content types a JSON route accepts: `application/json` and any `application/<x>+json`. */
export const JSON_CONTENT_TYPES: readonly string[] = ["application/json", "application/*+json"];

/** The media type alone, lower-cased (`Application/JSON; charset=UTF-8` → `application/json`), and its charset. */
function parseContentType(header: string): { mediaType: string; charset?: string } {
  const [type = "", ...params] = header.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const [name, value] = param.split("=", 2);
    if (name?.trim().toLowerCase() === "charset" && value !== undefined)
      charset = value
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toLowerCase();
  }
  return { mediaType: type.trim().toLowerCase(), charset };
}

/** `application/*+json` matches `application/vnd.api+json`; other patterns match exactly. */
function matches(mediaType: string, pattern: string): boolean {
  const star = pattern.indexOf("*");
  if (star === -1) return mediaType === pattern;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return (
    mediaType.length > prefix.length + suffix.length &&
    mediaType.startsWith(prefix) &&
    mediaType.endsWith(suffix) &&
    !mediaType.slice(prefix.length, mediaType.length - suffix.length).includes("/")
  );
}

/**
 * Refuses (415) a body whose Content-Type is not one of `accepted`: browsers send
 * `text/plain`, form and multipart bodies cross-site without asking first, so a
 * JSON route that read them anyway could be driven by any web page. JSON is
 * UTF-8 (RFC 8259), so a JSON type with another charset is refused too.
 */
function contentTypeError(contentType: string | null, accepted: readonly string[]): ProxyError | undefined {
  const expected = accepted.join(" or ");
  if (!contentType) {
    return new ProxyError(415, `Missing Content-Type: send the body as ${expected}.`, {
      code: "unsupported_media_type",
      param: "content-type",
    });
  }
  const { mediaType, charset } = parseContentType(contentType);
  if (!accepted.some((pattern) => matches(mediaType, pattern))) {
    return new ProxyError(415, `Unsupported Content-Type "${mediaType}": send the body as ${expected}.`, {
      code: "unsupported_media_type",
      param: "content-type",
    });
  }
  if (mediaType.endsWith("json") && charset !== undefined && charset !== "utf-8" && charset !== "utf8") {
    return new ProxyError(
      415,
      `Unsupported charset "${charset}": send the body as ${expected} in UTF-8 (JSON is always UTF-8).`,
      {
        code: "unsupported_media_type",
        param: "content-type",
      },
    );
  }
  return undefined;
}

/** Route middleware: only bodies of the `accepted` content types reach the handler. */
export function requireContentType(accepted: readonly string[], shape: ErrorShape): Middleware {
  return (event) => {
    const error = contentTypeError(event.req.headers.get("content-type"), accepted);
    if (error) return shape(error, event);
  };
}

/** The Host header's name without port or trailing dot, lower-cased: `[::1]:8080` → `[::1]`. */
function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const name = trimmed.startsWith("[") ? trimmed.slice(0, trimmed.indexOf("]") + 1) : trimmed.replace(/:\d*$/, "");
  return name.replace(/\.$/, "");
}

/** Names that always mean this machine: no DNS answer can point them elsewhere. */
function isLoopbackName(name: string): boolean {
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

export interface RequestGuardOptions {
  /** CORS_ORIGINS: a request with any other `Origin` is refused (403). `*` allows every origin. */
  allowedOrigins: readonly string[];
  /**
   * Host names answered besides the loopback ones (ALLOWED_HOSTS); `undefined`
   * turns the Host check off (a key is required, or the runtime has its own hostname).
   */
  allowedHosts: readonly string[] | undefined;
  shape: ErrorShape;
}

/** App middleware, before CORS and the API key: refuses foreign origins and misdirected Host names. */
export function requestGuards(options: RequestGuardOptions): Middleware {
  const hosts = options.allowedHosts && new Set(options.allowedHosts.map(hostName));
  const anyOrigin = options.allowedOrigins.includes("*");
  return (event) => {
    if (hosts) {
      const host = event.req.headers.get("host");
      const name = host === null ? undefined : hostName(host);
      if (name !== undefined && !isLoopbackName(name) && !hosts.has(name)) {
        return options.shape(
          new ProxyError(
            421,
            `This proxy does not answer for the host "${name}": without PROXY_API_KEY it answers only localhost, 127.0.0.1 and [::1]. ` +
              "If you reach it under another name on purpose, add that name to ALLOWED_HOSTS (comma-separated) or set PROXY_API_KEY.",
            { type: "invalid_request_error", code: "misdirected_request" },
          ),
          event,
        );
      }
    }
    const origin = event.req.headers.get("origin");
    if (origin !== null && !anyOrigin && !options.allowedOrigins.includes(origin)) {
      return options.shape(
        new ProxyError(
          403,
          `Requests from the web origin ${JSON.stringify(origin)} are not allowed. List the origin in CORS_ORIGINS to allow it; clients that are not browsers should send no Origin header.`,
          { code: "origin_not_allowed" },
        ),
        event,
      );
    }
  };
}
