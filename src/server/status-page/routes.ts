/**
 * `GET /`, `/status-page.js` and `/status-page.css`: the owner's read-only
 * status page. The files are static and hold no data; the data comes from
 * `GET /v1/pool`, which is guarded like every `/v1` route.
 */
import { STATUS_PAGE_CSS, STATUS_PAGE_HTML } from "./page-html.js";
import { STATUS_PAGE_SCRIPT } from "./page-script.js";

/** No inline code, nothing from elsewhere, never framed (clickjacking), never cached. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
} as const;

function asset(body: string, contentType: string): Response {
  return new Response(body, { headers: { ...PAGE_HEADERS, "content-type": contentType } });
}

export const statusPageRoutes: ReadonlyArray<[path: string, respond: () => Response]> = [
  ["/", () => asset(STATUS_PAGE_HTML, "text/html; charset=utf-8")],
  ["/status-page.js", () => asset(STATUS_PAGE_SCRIPT, "text/javascript; charset=utf-8")],
  ["/status-page.css", () => asset(STATUS_PAGE_CSS, "text/css; charset=utf-8")],
];
