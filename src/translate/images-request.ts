/**
 * OpenAI Images requests → the backend's `images/generations` and
 * `images/edits` JSON (docs/protocol.md §11): `prompt`, `model`, `size`,
 * `quality`, `background`, `n`; edits add `images: [{image_url: "data:…"}]`.
 * Only these fields are sent (the endpoint's known fields); the answer is
 * already in the OpenAI shape `{created, data: [{b64_json}], usage}`. Pure.
 */
import { invalidRequest } from "../core/errors.js";

/** The backend's image model when the client names none. */
const DEFAULT_IMAGE_MODEL = "gpt-image-2";

type Json = Record<string, unknown>;

/** A field from JSON or from a form: strings as they are, numbers from their text. */
export type ImageFields = Record<string, unknown>;

function optionalString(fields: ImageFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw invalidRequest(`${name} must be a string.`, name);
  return value;
}

export function imageGenerationBody(fields: ImageFields): Json {
  const prompt = fields.prompt;
  if (typeof prompt !== "string" || !prompt.trim()) throw invalidRequest("prompt is required.", "prompt");
  const responseFormat = optionalString(fields, "response_format");
  if (responseFormat && responseFormat !== "b64_json")
    throw invalidRequest(
      "Only response_format b64_json is supported: the backend returns image data, not URLs.",
      "response_format",
    );
  const body: Json = { prompt, model: optionalString(fields, "model") ?? DEFAULT_IMAGE_MODEL };
  for (const name of ["size", "quality", "background"]) {
    const value = optionalString(fields, name);
    if (value) body[name] = value;
  }
  if (fields.n !== undefined && fields.n !== null && fields.n !== "") {
    const n = typeof fields.n === "string" ? Number(fields.n) : fields.n;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10)
      throw invalidRequest("n must be an integer from 1 to 10.", "n");
    body.n = n;
  }
  return body;
}

/** Edits: the generation fields plus the input images as data URLs. */
export function imageEditBody(fields: ImageFields, images: readonly string[]): Json {
  if (fields.mask !== undefined && fields.mask !== null)
    throw invalidRequest("mask is not supported by the Codex backend's image edits.", "mask");
  if (images.length === 0) throw invalidRequest("image is required: one or more images to edit.", "image");
  for (const [i, url] of images.entries())
    if (!/^data:image\/[a-z0-9.+-]+;base64,/i.test(url))
      throw invalidRequest(`image[${i}] must be an image file or a data:image/…;base64 URL.`, "image");
  return { ...imageGenerationBody(fields), images: images.map((image_url) => ({ image_url })) };
}

/** Images given in a JSON edit request: `images: [{image_url}]` (the backend's shape) or `image` as data URL(s). */
export function jsonEditImages(raw: Json): string[] {
  if (Array.isArray(raw.images))
    return raw.images.map((entry, i) => {
      const url = typeof entry === "string" ? entry : (entry as Json | null)?.image_url;
      if (typeof url !== "string") throw invalidRequest(`images[${i}].image_url must be a string.`, `images[${i}]`);
      return url;
    });
  const image = raw.image;
  if (typeof image === "string") return [image];
  if (Array.isArray(image) && image.every((entry) => typeof entry === "string")) return image as string[];
  return [];
}
