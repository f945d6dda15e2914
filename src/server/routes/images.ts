/**
 * POST /v1/images/generations (JSON) and /v1/images/edits (JSON or
 * multipart/form-data, as the openai SDK sends files), forwarded to the
 * backend's image endpoints (docs/protocol.md §11). The answer is passed on
 * as the backend gave it: `{created, data: [{b64_json}], usage}`.
 */
import { ProxyError } from "../../core/errors.js";
import {
  imageEditBody,
  imageGenerationBody,
  jsonEditImages,
  type ImageFields,
} from "../../translate/images-request.js";
import { readJsonObject } from "../body.js";
import { poolSelection, type RequestLogInfo, type RouteContext } from "../context.js";

async function forward(
  request: Request,
  ctx: RouteContext,
  endpoint: "generations" | "edits",
  body: Record<string, unknown>,
  log: RequestLogInfo,
): Promise<Response> {
  const text = await ctx.pool.run(poolSelection(request, undefined), async (member) => {
    log.account = member.name;
    const upstream = await ctx.client.createImages(member, endpoint, body, { signal: request.signal });
    return upstream.text();
  });
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
}

export async function handleImageGenerations(
  request: Request,
  ctx: RouteContext,
  log: RequestLogInfo,
): Promise<Response> {
  const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
  const body = imageGenerationBody(raw);
  log.model = String(body.model);
  return forward(request, ctx, "generations", body, log);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** A multipart edit: text fields as they are, `image`/`image[]` files as data URLs. */
async function readMultipartEdit(
  request: Request,
  ctx: RouteContext,
): Promise<{ fields: ImageFields; images: string[] }> {
  const bytes = await ctx.streams.readBody(request, ctx.config.maxBodyBytes);
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": request.headers.get("content-type") ?? "" },
    }).formData();
  } catch {
    throw new ProxyError(400, "Request body is not valid multipart/form-data.", { code: "invalid_multipart" });
  }
  const fields: ImageFields = {};
  const images: string[] = [];
  // The two runtimes' type declarations disagree on FormData's entry type; at run time it is a string or a Blob.
  for (const [name, value] of form.entries() as Iterable<[string, string | Blob]>) {
    if (typeof value === "string") {
      fields[name] = value;
    } else if (name === "image" || name === "image[]") {
      const type = value.type?.startsWith("image/") ? value.type : "image/png";
      images.push(`data:${type};base64,${toBase64(new Uint8Array(await value.arrayBuffer()))}`);
    } else {
      fields[name] = value; // e.g. a mask file: refused by imageEditBody
    }
  }
  return { fields, images };
}

export async function handleImageEdits(request: Request, ctx: RouteContext, log: RequestLogInfo): Promise<Response> {
  const contentType = request.headers.get("content-type") ?? "";
  let body: Record<string, unknown>;
  if (contentType.toLowerCase().startsWith("multipart/form-data")) {
    const { fields, images } = await readMultipartEdit(request, ctx);
    body = imageEditBody(fields, images);
  } else {
    const raw = await readJsonObject(request, ctx.config.maxBodyBytes, ctx.streams.readBody);
    body = imageEditBody(raw, jsonEditImages(raw));
  }
  log.model = String(body.model);
  return forward(request, ctx, "edits", body, log);
}
