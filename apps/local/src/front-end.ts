import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { errorBody } from "@stepstream/results-schema";
import { type LocalCredentials, verifySigV4 } from "./auth.js";
import { BodyTooLarge, flatHeaders, readBody, sendError } from "./http.js";

/** Largest request head (request line + headers) accepted, as AWS front doors limit it. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface FrontEndOptions {
  port: number;
  /** `null`: no authentication (`--no-auth`). */
  auth: { credentials: LocalCredentials; region: string; service: "execute-api" | "lambda" } | null;
  /** Origins allowed by CORS (`*` allowed only if listed explicitly). */
  corsOrigins: string[];
  corsMethods: string;
  corsExposeHeaders?: string;
  bodyLimit: number;
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface FrontEnd {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

const CORS_ALLOW_HEADERS =
  "authorization,content-type,x-amz-date,x-amz-security-token,x-amz-content-sha256,last-event-id";

/**
 * An HTTP front end shaped like an AWS one: CORS preflight, SigV4 (403 JSON on failure), a body
 * limit (413), oversized heads (431 JSON), and never a stack trace to the client.
 */
export async function startFrontEnd(o: FrontEndOptions): Promise<FrontEnd> {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0 }, async (req, res) => {
    res.socket?.setNoDelay(true);
    const origin = req.headers.origin;
    const allowOrigin = origin && (o.corsOrigins.includes(origin) || o.corsOrigins.includes("*")) ? origin : undefined;
    const cors: Record<string, string> = allowOrigin
      ? {
          "access-control-allow-origin": allowOrigin,
          vary: "Origin",
          ...(o.corsExposeHeaders ? { "access-control-expose-headers": o.corsExposeHeaders } : {}),
        }
      : {};
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    try {
      if (req.method === "OPTIONS") {
        res.writeHead(allowOrigin ? 204 : 403, {
          ...(allowOrigin
            ? {
                "access-control-allow-methods": o.corsMethods,
                "access-control-allow-headers": CORS_ALLOW_HEADERS,
                "access-control-max-age": "600",
              }
            : {}),
        });
        res.end();
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, o.bodyLimit);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          sendError(res, "PayloadTooLarge", `request body is larger than ${o.bodyLimit} bytes`, 413, { connection: "close" });
          return;
        }
        throw err;
      }
      if (o.auth) {
        const verdict = await verifySigV4(
          { method: req.method ?? "GET", rawUrl: req.url ?? "/", headers: flatHeaders(req), body },
          o.auth,
        );
        if (!verdict.ok) {
          o.log?.("request rejected: signature", { reason: verdict.message });
          sendError(res, "Forbidden", verdict.message, 403);
          return;
        }
      }
      await o.handle(req, res, body);
    } catch (err) {
      o.log?.("request failed", { error: (err as Error).message });
      sendError(res, "Internal", "internal error", 500);
    }
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify(
      errorBody("BadRequest", tooLarge ? `request headers are larger than ${MAX_HEADER_BYTES} bytes` : "malformed HTTP request"),
    );
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? "Request Header Fields Too Large" : "Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
