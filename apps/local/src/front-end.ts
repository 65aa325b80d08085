import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { type ErrorCode, errorBody } from "@stepstream/results-schema";
import { type LocalCredentials, verifySigV4 } from "./auth.js";
import { BodyTooLarge, flatHeaders, listenOnLoopback, readBody, sendError } from "./http.js";

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
  /**
   * How long a connection may stay open without sending a complete request head (idle, or a head
   * that never ends) before it is answered `408` and closed. Default 30 s.
   */
  idleTimeoutMs?: number;
  /**
   * Answers a request that passed CORS, the body limit and SigV4. `ctx.logFields` is added to the
   * request's log line (e.g. the execution ARN a start created); never put headers, the signature
   * or record content there.
   */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer, ctx: RequestContext): Promise<void>;
  /**
   * The `--verbose` log: one line per request with method, path, status, duration and the execution
   * ARN, plus why a request was refused. Never headers (so never `authorization`, the signature or a
   * session token), never the body, never record content.
   */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** Per-request state shared with the handler. */
export interface RequestContext {
  logFields: Record<string, unknown>;
}

export interface FrontEnd {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

const CORS_ALLOW_HEADERS =
  "authorization,content-type,x-amz-date,x-amz-security-token,x-amz-content-sha256,last-event-id,if-none-match";

/**
 * An HTTP front end shaped like an AWS one: CORS preflight, SigV4 (403 JSON on failure), a body
 * limit (413), oversized heads (431 JSON), and never a stack trace to the client.
 */
export async function startFrontEnd(o: FrontEndOptions): Promise<FrontEnd> {
  let boundPort = o.port;
  // requestTimeout bounds how long a client may take to send its request (not how long a stream
  // response may last): a slow-loris client cannot hold a connection open forever.
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 30_000 },
    async (req, res) => {
      res.socket?.setNoDelay(true);
      const ctx: RequestContext = { logFields: requestLogFields(req.url ?? "/") };
      const started = Date.now();
      res.once("close", () => {
        o.log?.("request", {
          ...(o.auth ? { service: o.auth.service } : {}),
          port: boundPort,
          method: req.method,
          status: res.statusCode,
          durationMs: Date.now() - started,
          ...ctx.logFields,
        });
      });
      const origin = req.headers.origin;
      const allowOrigin =
        origin && (o.corsOrigins.includes(origin) || o.corsOrigins.includes("*")) ? origin : undefined;
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
          if (!allowOrigin) {
            sendError(
              res,
              "Forbidden",
              "CORS preflight refused: the Origin is not one of the allowed origins (--cors-origin)",
              403,
            );
            return;
          }
          res.writeHead(204, {
            "access-control-allow-methods": o.corsMethods,
            "access-control-allow-headers": CORS_ALLOW_HEADERS,
            "access-control-max-age": "600",
          });
          res.end();
          return;
        }
        let body: Buffer;
        try {
          body = await readBody(req, o.bodyLimit);
        } catch (err) {
          if (err instanceof BodyTooLarge) {
            sendError(res, "PayloadTooLarge", `request body is larger than ${o.bodyLimit} bytes`, 413, {
              connection: "close",
            });
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
            ctx.logFields.rejected = verdict.message.slice(0, 200);
            sendError(res, "Forbidden", verdict.message, 403);
            return;
          }
        }
        await o.handle(req, res, body, ctx);
      } catch (err) {
        ctx.logFields.error = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 300);
        sendError(res, "Internal", "internal error; see the local stack's log", 500);
      }
    },
  );
  // A client that half-closes its side after its request still gets its whole response (Node's
  // default answers nothing more once the request side ends); the connection closes after it.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Idle connections, and heads that never complete, get 408 (Node 20's own headersTimeout check does
  // not fire for them here: measured). The timer stops at the request and restarts after its response.
  const idleTimeoutMs = o.idleTimeoutMs ?? 30_000;
  const idleTimers = new WeakMap<Socket, NodeJS.Timeout>();
  const armIdle = (socket: Socket) => {
    clearTimeout(idleTimers.get(socket));
    const t = setTimeout(() => {
      if (socket.destroyed || inFlight(socket)) return;
      answerRaw(
        socket,
        408,
        "Request Timeout",
        "RequestTimeout",
        `no complete request within ${idleTimeoutMs} ms`,
      );
    }, idleTimeoutMs);
    t.unref();
    idleTimers.set(socket, t);
  };
  server.on("connection", (socket: Socket) => {
    armIdle(socket);
    socket.once("close", () => clearTimeout(idleTimers.get(socket)));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    clearTimeout(idleTimers.get(req.socket));
    res.once("finish", () => {
      if (!req.socket.destroyed) armIdle(req.socket);
    });
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    // Bytes that are not HTTP after a request whose response is under way (pipelined garbage): never
    // write an error into that response; let it finish, then close the connection.
    const current = inFlight(socket);
    if (current) {
      current.shouldKeepAlive = false;
      current.once("finish", () => socket.destroySoon());
      current.once("close", () => socket.destroy());
      return;
    }
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      answerRaw(socket, 408, "Request Timeout", "RequestTimeout", "the request was not received in time");
      return;
    }
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    answerRaw(
      socket,
      tooLarge ? 431 : 400,
      tooLarge ? "Request Header Fields Too Large" : "Bad Request",
      "BadRequest",
      tooLarge ? `request headers are larger than ${MAX_HEADER_BYTES} bytes` : "malformed HTTP request",
    );
  });
  server.keepAliveTimeout = 65_000;
  const { port, close } = await listenOnLoopback(server, o.port);
  boundPort = port;
  return { server, port, url: `http://127.0.0.1:${port}/`, close };
}

/** The response being written on a connection, if one is under way. */
function inFlight(socket: Socket): ServerResponse | undefined {
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return res && !res.writableEnded ? res : undefined;
}

/** An error answer written on the raw socket (no request object exists), then the connection closes. */
function answerRaw(socket: Socket, status: number, reason: string, code: ErrorCode, message: string) {
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * What the log may say about a request line: the path (not the query) and, from the query, only the
 * execution ARN and the read position and mode. All bounded in length; nothing from headers.
 */
function requestLogFields(rawUrl: string): Record<string, unknown> {
  const q = rawUrl.indexOf("?");
  const fields: Record<string, unknown> = { path: (q < 0 ? rawUrl : rawUrl.slice(0, q)).slice(0, 200) };
  if (q >= 0) {
    const params = new URLSearchParams(rawUrl.slice(q + 1));
    for (const name of ["executionArn", "offset", "live"]) {
      const v = params.get(name);
      if (v !== null) fields[name] = v.slice(0, name === "executionArn" ? 256 : 32);
    }
  }
  return fields;
}
