import type { IncomingMessage, ServerResponse } from "node:http";
import { type ErrorCode, errorBody, httpStatusOf } from "@stepstream/results-schema";

/** Answers with the one error format, `{"error":{"code","message"}}`. */
export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  status = httpStatusOf(code),
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(body);
}

/** Thrown by `readBody` when the body is over the limit. */
export class BodyTooLarge extends Error {}

/** Reads a request body up to `limit` bytes; rejects with `BodyTooLarge` past it (without reading it all). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Header values as one string each. A header sent more than once has all its values, each trimmed,
 * joined with `,` — as Lambda's payload format 2.0 and SigV4's canonical headers do. (Node's own
 * `req.headers` joins with `, ` and silently drops repeats of some headers such as `host` and
 * `authorization`; a repeated `authorization` must fail verification, not pass with the first.)
 */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = v.map((x) => x.trim()).join(",");
  }
  return out;
}
