/**
 * A fake of auth.openai.com on 127.0.0.1: authorize (answers with the
 * redirect a browser would follow), token (code + PKCE, rotating single-use
 * refresh tokens), device code, revoke. Tokens are unsigned JWTs with the
 * claims the real ones carry.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AUTH_CLAIM, unsignedJwt } from "../helpers/jwt.js";

export interface FakeOAuthOptions {
  /** Lifetime of issued access tokens; short values test refresh chains. */
  accessTokenTtlSeconds?: number;
  accountId?: string;
  email?: string;
  plan?: string;
  /** Device polls answered "pending" before approval (when not approved by hand). */
  devicePendingPolls?: number;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
}

export interface FakeOAuthServer {
  readonly issuer: string;
  readonly refreshCount: number;
  readonly reusedCount: number;
  readonly revoked: string[];
  /** Every access token issued so far (for a fake backend's accepted list). */
  readonly accessTokens: string[];
  issueTokens(): IssuedTokens;
  failNextRefresh(kind: number | "network" | "terminal"): void;
  /** Delays refresh answers (to widen race windows in tests). */
  setRefreshDelay(ms: number): void;
  onAccessToken(callback: (token: string) => void): void;
  approveDevice(): void;
  close(): Promise<void>;
}

const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";

export async function startFakeOAuthServer(options: FakeOAuthOptions = {}): Promise<FakeOAuthServer> {
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  const accountId = options.accountId ?? "acct_fake_123";
  const validRefresh = new Set<string>();
  const usedRefresh = new Set<string>();
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const accessTokens: string[] = [];
  const listeners: Array<(token: string) => void> = [];
  const revoked: string[] = [];
  let refreshCount = 0;
  let reusedCount = 0;
  let failNext: number | "network" | "terminal" | undefined;
  let refreshDelay = 0;
  let deviceApproved = false;
  let devicePolls = 0;
  let serial = 0;

  function issueTokens(): IssuedTokens {
    serial++;
    const now = Math.floor(Date.now() / 1000);
    const auth = {
      chatgpt_account_id: accountId,
      chatgpt_user_id: "user-fake-1",
      chatgpt_plan_type: options.plan ?? "plus",
    };
    const access = unsignedJwt({
      exp: now + ttl,
      iat: now,
      jti: `${serial}-${randomBytes(6).toString("hex")}`,
      [AUTH_CLAIM]: auth,
    });
    const idToken = unsignedJwt({
      exp: now + 3600,
      email: options.email ?? "dev@example.com",
      [AUTH_CLAIM]: auth,
    });
    const refresh = `rt_fake_${serial}_${randomBytes(12).toString("hex")}`;
    validRefresh.add(refresh);
    accessTokens.push(access);
    for (const listener of listeners) listener(access);
    return { access_token: access, refresh_token: refresh, id_token: idToken, expires_in: ttl };
  }

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  async function handleToken(res: http.ServerResponse, params: Record<string, string>) {
    if (params.client_id !== CLIENT_ID) return json(res, 401, { error: "invalid_client" });
    if (params.grant_type === "authorization_code") {
      const entry = codes.get(params.code ?? "");
      if (!entry) return json(res, 400, { error: "invalid_grant", error_description: "unknown code" });
      codes.delete(params.code!);
      const challenge = createHash("sha256")
        .update(params.code_verifier ?? "")
        .digest("base64url");
      if (challenge !== entry.challenge)
        return json(res, 400, { error: "invalid_grant", error_description: "PKCE verification failed" });
      if (params.redirect_uri !== entry.redirectUri)
        return json(res, 400, { error: "invalid_grant", error_description: "redirect_uri mismatch" });
      return json(res, 200, { ...issueTokens(), token_type: "Bearer", scope: "openid profile email offline_access" });
    }
    if (params.grant_type === "refresh_token") {
      refreshCount++;
      if (refreshDelay) await new Promise((resolve) => setTimeout(resolve, refreshDelay));
      const failure = failNext;
      failNext = undefined;
      if (failure === "network") return res.socket?.destroy();
      if (failure === "terminal")
        return json(res, 401, { error: "refresh_token_expired", error_description: "expired" });
      if (typeof failure === "number")
        return json(res, failure, { error: { code: "server_error", message: "try later" } });
      const token = params.refresh_token ?? "";
      if (usedRefresh.has(token)) {
        reusedCount++;
        return json(res, 401, {
          error: "refresh_token_reused",
          error_description: "Your refresh token has already been used to generate a new access token.",
        });
      }
      if (!validRefresh.has(token))
        return json(res, 401, { error: "invalid_grant", error_description: "unknown refresh token" });
      validRefresh.delete(token);
      usedRefresh.add(token);
      return json(res, 200, { ...issueTokens(), token_type: "Bearer" });
    }
    return json(res, 400, { error: "unsupported_grant_type" });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const raw = Buffer.concat(chunks).toString("utf8");
      let params: Record<string, string> = {};
      if ((req.headers["content-type"] ?? "").includes("application/json")) {
        try {
          params = JSON.parse(raw || "{}");
        } catch {
          return json(res, 400, { error: "invalid_request" });
        }
      } else {
        params = Object.fromEntries(new URLSearchParams(raw));
      }

      if (req.method === "GET" && url.pathname === "/oauth/authorize") {
        const q = url.searchParams;
        const redirect = q.get("redirect_uri") ?? "";
        const redirectUrl = (() => {
          try {
            return new URL(redirect);
          } catch {
            return undefined;
          }
        })();
        const allowed =
          redirectUrl && redirectUrl.hostname === "localhost" && redirectUrl.pathname === "/auth/callback";
        if (
          q.get("client_id") !== CLIENT_ID ||
          !allowed ||
          q.get("code_challenge_method") !== "S256" ||
          !q.get("code_challenge") ||
          !q.get("state")
        ) {
          return json(res, 400, { error: "invalid_request" });
        }
        if (q.get("scope") !== "openid profile email offline_access") return json(res, 400, { error: "invalid_scope" });
        const code = `code_${randomBytes(8).toString("hex")}`;
        codes.set(code, { challenge: q.get("code_challenge")!, redirectUri: redirect });
        redirectUrl.searchParams.set("code", code);
        redirectUrl.searchParams.set("state", q.get("state")!);
        res.writeHead(302, { location: redirectUrl.toString() });
        return res.end();
      }
      if (req.method === "POST" && url.pathname === "/oauth/token") return void handleToken(res, params);
      if (req.method === "POST" && url.pathname === "/oauth/revoke") {
        revoked.push(params.token ?? "");
        return json(res, 200, {});
      }
      if (req.method === "POST" && url.pathname === "/api/accounts/deviceauth/usercode") {
        if (params.client_id !== CLIENT_ID) return json(res, 400, { error: "invalid_client" });
        return json(res, 200, { device_auth_id: "dev_1", user_code: "ABCD-EFGH", interval: "1" });
      }
      if (req.method === "POST" && url.pathname === "/api/accounts/deviceauth/token") {
        devicePolls++;
        const approved = deviceApproved || devicePolls > (options.devicePendingPolls ?? 1);
        if (!approved || params.device_auth_id !== "dev_1") return json(res, 403, { error: "authorization_pending" });
        const verifier = randomBytes(32).toString("base64url");
        const challenge = createHash("sha256").update(verifier).digest("base64url");
        const code = `code_${randomBytes(8).toString("hex")}`;
        codes.set(code, { challenge, redirectUri: `${origin}/deviceauth/callback` });
        return json(res, 200, { authorization_code: code, code_challenge: challenge, code_verifier: verifier });
      }
      json(res, 404, { error: "not_found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer: origin,
    get refreshCount() {
      return refreshCount;
    },
    get reusedCount() {
      return reusedCount;
    },
    revoked,
    accessTokens,
    issueTokens,
    failNextRefresh: (kind) => {
      failNext = kind;
    },
    setRefreshDelay: (ms) => {
      refreshDelay = ms;
    },
    onAccessToken: (callback) => listeners.push(callback),
    approveDevice: () => {
      deviceApproved = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
