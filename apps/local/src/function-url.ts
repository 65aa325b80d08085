import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import { flatHeaders, sendError } from "./http.js";
import {
  InvocationResponseStream,
  lambdaContext,
  PRELUDE_CONTENT_TYPE,
  PRELUDE_DELIMITER,
} from "./lambda-runtime.js";

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

/**
 * Lambda's documented limits for a `RESPONSE_STREAM` Function URL
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html and
 * https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html): a streamed response may
 * be up to 200 MB; its first 6 MB are streamed uncapped, the rest at most 2 MBps.
 */
export const FUNCTION_URL_LIMITS = {
  maxResponseBytes: 200 * 1024 * 1024,
  uncappedBytes: 6 * 1024 * 1024,
  cappedBytesPerSecond: 2 * 1024 * 1024,
} as const;

export interface FunctionUrlOptions {
  handler: StreamingHandler;
  functionName: string;
  region: string;
  account: string;
  /** The function's timeout (Lambda allows up to 15 minutes for streamed responses). */
  timeoutMs: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Override the documented limits (tests only: e.g. a small bandwidth cap). */
  limits?: Partial<typeof FUNCTION_URL_LIMITS>;
}

/** What the Function URL knows about its function's invocations: Lambda bills each until it returns. */
export interface InvocationStats {
  /** Invocations whose handler has not returned (nor timed out): each holds a concurrency slot. */
  running: number;
  started: number;
  /** Invocations that outlived their client: still running, or ended after it had gone. */
  outlivedClient: number;
  timedOut: number;
}

export type FunctionUrlHandler = ((
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
) => Promise<void>) & {
  stats: InvocationStats;
  /** Stops every running invocation (the stack is shutting down: Lambda would freeze the sandbox). */
  shutdown(): void;
};

/**
 * What a Lambda Function URL with `InvokeMode: RESPONSE_STREAM` does: turns the HTTP request into a
 * payload format 2.0 event, runs the streaming handler with the runtime's response stream, reads the
 * prelude (status, headers) from the body the runtime sends, and relays each chunk to the client as
 * it comes, only as fast as the client reads it (back-pressure reaches the handler's `write()`).
 *
 * As on Lambda, a client that goes away does not stop the invocation: the handler's stream sees no
 * `close` or `error`, its later writes are accepted and dropped, and the invocation runs (and counts
 * in `stats.running`) until the handler returns or the function times out.
 */
export function functionUrlHandler(o: FunctionUrlOptions): FunctionUrlHandler {
  const limits = { ...FUNCTION_URL_LIMITS, ...o.limits };
  const stats: InvocationStats = { running: 0, started: 0, outlivedClient: 0, timedOut: 0 };
  const live = new Set<InvocationResponseStream>();
  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const requestId = randomUUID();
    const event = functionUrlEvent(req, body, requestId, o.account);
    let clientGone = false;
    let countedOutlived = false;
    let invocationOver = false;
    res.once("close", () => {
      if (res.writableFinished) return;
      clientGone = true;
      if (!invocationOver && !countedOutlived) {
        countedOutlived = true;
        stats.outlivedClient++;
      }
    });

    // The platform's side of the response: prelude parsing, relaying with back-pressure, limits.
    let preludeBuf: Buffer | undefined = Buffer.alloc(0);
    let bodyBytes = 0;
    let cappedFrom = 0;
    const relay = (chunk: Buffer, done: (err?: Error | null) => void) => {
      if (clientGone || res.destroyed || chunk.length === 0) return done();
      bodyBytes += chunk.length;
      if (bodyBytes > limits.maxResponseBytes) {
        o.log?.("streamed response over the limit: cut", { requestId, limit: limits.maxResponseBytes });
        res.destroy();
        return done();
      }
      const send = () => {
        if (clientGone || res.destroyed) return done();
        if (res.write(chunk)) return done();
        const resume = () => {
          res.off("drain", resume);
          res.off("close", resume);
          done();
        };
        res.on("drain", resume);
        res.on("close", resume);
      };
      // The bandwidth cap past the first 6 MB: this chunk leaves no earlier than the cap allows.
      if (bodyBytes <= limits.uncappedBytes) return send();
      cappedFrom ||= Date.now();
      const due = cappedFrom + ((bodyBytes - limits.uncappedBytes) / limits.cappedBytesPerSecond) * 1000;
      const wait = due - Date.now();
      if (wait > 0) setTimeout(send, wait);
      else send();
    };
    const transport = {
      deliver(chunk: Buffer, contentType: string, done: (err?: Error | null) => void) {
        if (res.headersSent || clientGone || res.destroyed) return relay(chunk, done);
        if (contentType !== PRELUDE_CONTENT_TYPE) {
          res.writeHead(200, { "content-type": contentType, "x-amzn-requestid": requestId });
          return relay(chunk, done);
        }
        preludeBuf = Buffer.concat([preludeBuf ?? Buffer.alloc(0), chunk]);
        const at = preludeBuf.indexOf(PRELUDE_DELIMITER);
        if (at < 0) return done();
        let prelude: { statusCode?: number; headers?: Record<string, string> } | undefined;
        try {
          prelude = JSON.parse(preludeBuf.subarray(0, at).toString("utf8"));
        } catch {
          prelude = undefined;
        }
        const rest = preludeBuf.subarray(at + PRELUDE_DELIMITER.length);
        preludeBuf = undefined;
        if (!prelude || typeof prelude !== "object") {
          badGateway("the function's response prelude is not JSON");
          return done();
        }
        res.writeHead(prelude.statusCode ?? 200, { ...prelude.headers, "x-amzn-requestid": requestId });
        res.flushHeaders();
        relay(rest, done);
      },
      finish(contentType: string, done: (err?: Error | null) => void) {
        if (!res.headersSent && !clientGone && !res.destroyed) {
          if (contentType === PRELUDE_CONTENT_TYPE && preludeBuf && preludeBuf.length > 0) {
            // Bytes but no prelude delimiter (e.g. `end(chunk)` with no `write()`: RIC issue #97).
            badGateway("the function's response has no prelude");
            return done();
          }
          // No byte at all (`end()` with no `write()`): what the Function URL answers then (RIC issue
          // #97): 200, none of the status and headers the handler meant, an empty body.
          res.writeHead(200, {
            ...(contentType === PRELUDE_CONTENT_TYPE ? {} : { "content-type": contentType }),
            "x-amzn-requestid": requestId,
          });
        }
        if (!res.destroyed && !res.writableEnded) res.end();
        done();
      },
    };
    const badGateway = (why: string) => {
      o.log?.("streamer response malformed", { requestId, why });
      sendError(res, "Internal", "the function's response was malformed; see the local stack's log", 502, {
        "x-amzn-requestid": requestId,
      });
    };

    const responseStream = new InvocationResponseStream(transport);
    // The stream may be destroyed only by the platform itself (timeout, shutdown): errors from that
    // are the end of the invocation, not an unhandled error.
    responseStream.on("error", () => undefined);
    live.add(responseStream);
    stats.running++;
    stats.started++;
    const endInvocation = () => {
      if (invocationOver) return;
      invocationOver = true;
      stats.running--;
      live.delete(responseStream);
      clearTimeout(timer);
    };
    // The function's timeout: Lambda stops the invocation; the client's response is cut.
    const timer = setTimeout(() => {
      if (invocationOver) return;
      stats.timedOut++;
      o.log?.("streamer timed out", { requestId, timeoutMs: o.timeoutMs });
      endInvocation();
      if (!res.headersSent) sendError(res, "Internal", "the function timed out", 502);
      else res.destroy();
      responseStream.destroy();
    }, o.timeoutMs);
    const context = lambdaContext(o.functionName, o.region, o.account, o.timeoutMs);
    try {
      await o.handler(event, responseStream, context);
      if (!invocationOver && !responseStream.writableEnded) responseStream.end();
    } catch (err) {
      o.log?.("streamer failed", { requestId, error: (err as Error).message });
      if (!invocationOver) {
        if (!res.headersSent)
          sendError(res, "Internal", "the function failed; see the local stack's log", 502);
        else res.destroy();
      }
    } finally {
      endInvocation();
    }
  };
  return Object.assign(handle, {
    stats,
    shutdown() {
      for (const s of live) s.destroy();
    },
  });
}

/** The payload format 2.0 event a Function URL passes its function. */
function functionUrlEvent(req: IncomingMessage, body: Buffer, requestId: string, account: string) {
  const rawUrl = req.url ?? "/";
  const q = rawUrl.indexOf("?");
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQueryString = q < 0 ? "" : rawUrl.slice(q + 1);
  const headers = flatHeaders(req);
  const queryStringParameters: Record<string, string> = {};
  try {
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[k] =
        queryStringParameters[k] === undefined ? v : `${queryStringParameters[k]},${v}`;
    }
  } catch {
    // Lambda passes the raw string on regardless; the handler validates it.
  }
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    requestContext: {
      accountId: account,
      apiId: "local",
      domainName: headers.host ?? "127.0.0.1",
      domainPrefix: "local",
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: body.toString("base64"), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}
