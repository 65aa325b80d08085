import type { IncomingMessage, Server, ServerResponse } from "node:http";
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
  sendJson(res, status, errorBody(code, message), headers);
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

/** A server listening on loopback: its port, and a `close` that drops open connections first. */
export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0 picks a free one); rejects on `EADDRINUSE` and the like. */
export async function listenOnLoopback(server: Server, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
