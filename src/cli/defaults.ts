/** Defaults shared by the command tree's help text and the commands themselves (kept light: `--help` loads it). */
export const LOGIN_TIMEOUT_DEFAULT_S = 300;
