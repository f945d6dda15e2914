/** The 400 for an effort the model does not support and that `clampEffort` cannot map. */
import type { CodexModel } from "../codex/models.js";
import { invalidRequest, type ProxyError } from "../core/errors.js";

export function unsupportedEffort(requested: string, model: CodexModel | undefined, param: string): ProxyError {
  const supported = model ? `; use one of: ${model.reasoningEfforts.join(", ")}` : "";
  return invalidRequest(
    `${param} '${requested}' is not supported by ${model?.slug ?? "this model"}${supported}.`,
    param,
    "unsupported_value",
  );
}
