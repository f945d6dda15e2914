/** OAuth constants of the Codex CLI's public client (docs/protocol.md §1.1). */

export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const LOGIN_SCOPE = "openid profile email offline_access";
/** The only callback ports the vendor allow-lists for this client id. */
export const CALLBACK_PORTS = [1455, 1457] as const;
export const ORIGINATOR = "codex_cli_rs";
export const DEVICE_VERIFICATION_PATH = "/codex/device";
