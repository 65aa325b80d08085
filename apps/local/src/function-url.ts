import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough, type Writable } from "node:stream";
import { flatHeaders, sendError } from "./http.js";
import { lambdaContext, readPrelude } from "./lambda-runtime.js";

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

export interface FunctionUrlOptions {
  handler: StreamingHandler;
  functionName: string;
  region: string;
  account: string;
  /** The function's timeout (Lambda allows up to 15 minutes for streamed responses). */
  timeoutMs: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * What a Lambda Function URL with `InvokeMode: RESPONSE_STREAM` does: turns the HTTP request into a
 * payload format 2.0 event, runs the streaming handler, reads the runtime's prelude for status and
 * headers, and relays each body chunk to the client as it is written (chunked encoding).
 */
export function functionUrlHandler(o: FunctionUrlOptions) {
  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
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
    const requestId = randomUUID();
    const now = new Date();
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath,
      rawQueryString,
      headers,
      ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
      requestContext: {
        accountId: o.account,
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
      ...(body.length
        ? { body: body.toString("base64"), isBase64Encoded: true }
        : { isBase64Encoded: false }),
    };
    const responseStream = new PassThrough();
    res.on("close", () => {
      if (!responseStream.writableEnded) responseStream.destroy();
    });
    readPrelude(responseStream, (prelude, rest) => {
      res.writeHead(prelude.statusCode, { ...prelude.headers, "x-amzn-requestid": requestId });
      res.flushHeaders();
      if (rest.length) res.write(rest);
      responseStream.on("data", (chunk: Buffer) => res.write(chunk));
      responseStream.on("end", () => res.end());
      responseStream.resume();
    });
    const context = lambdaContext(o.functionName, o.region, o.account, o.timeoutMs);
    try {
      await o.handler(event, responseStream, context);
      if (!responseStream.writableEnded) responseStream.end();
    } catch (err) {
      o.log?.("streamer failed", { requestId, error: (err as Error).message });
      if (!res.headersSent) sendError(res, "Internal", "the function failed; see the local stack's log", 502);
      else res.destroy();
    }
  };
}
