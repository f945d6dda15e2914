/** Device-code login for machines without a browser (docs/protocol.md §1.4). */
import { CODEX_CLIENT_ID, DEVICE_VERIFICATION_PATH } from "./constants.js";
import { exchangeCode, type TokenResponse } from "./oauth-client.js";
import { LoginError } from "./browser-login.js";
import { describeNetworkError } from "../core/errors.js";

export interface DeviceLoginOptions {
  issuer: string;
  fetch: typeof fetch;
  onCode: (verificationUrl: string, userCode: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  timeoutMs?: number;
}

const DEVICE_CAP_MS = 15 * 60_000;

export async function runDeviceLogin(options: DeviceLoginOptions): Promise<TokenResponse> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const post = async (path: string, body: unknown): Promise<Response> => {
    try {
      return await options.fetch(`${options.issuer}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new LoginError(`Could not reach the OAuth issuer at ${options.issuer} (${describeNetworkError(error)}).`);
    }
  };
  const start = await post("/api/accounts/deviceauth/usercode", { client_id: CODEX_CLIENT_ID });
  if (start.status === 404)
    throw new LoginError(
      "Device-code login is not enabled for this account. Use `codex-proxy login` (browser) instead.",
    );
  if (!start.ok) throw new LoginError(`The issuer refused to start a device login (HTTP ${start.status}).`);
  const body = (await start.json()) as {
    device_auth_id?: string;
    user_code?: string;
    usercode?: string;
    interval?: string | number;
  };
  const userCode = body.user_code ?? body.usercode;
  if (!body.device_auth_id || !userCode) throw new LoginError("The issuer's device-login answer was incomplete.");
  const intervalMs = Math.max(1, Number(body.interval ?? 5)) * 1000;
  options.onCode(`${options.issuer}${DEVICE_VERIFICATION_PATH}`, userCode);

  const deadline = now() + (options.timeoutMs ?? DEVICE_CAP_MS);
  while (now() < deadline) {
    await sleep(intervalMs);
    const poll = await post("/api/accounts/deviceauth/token", {
      device_auth_id: body.device_auth_id,
      user_code: userCode,
    });
    if (poll.status === 403 || poll.status === 404) continue; // still pending
    if (!poll.ok) throw new LoginError(`Device login failed (HTTP ${poll.status}).`);
    const result = (await poll.json()) as { authorization_code?: string; code_verifier?: string };
    if (!result.authorization_code || !result.code_verifier)
      throw new LoginError("The issuer's device-login answer had no authorization code.");
    return exchangeCode(
      options.fetch,
      options.issuer,
      result.authorization_code,
      `${options.issuer}/deviceauth/callback`,
      result.code_verifier,
    );
  }
  throw new LoginError("The device code expired before it was entered. Run `codex-proxy login --device` again.");
}
