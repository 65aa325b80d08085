import { randomUUID } from "node:crypto";
import type { PassThrough, Writable } from "node:stream";
import { pathToFileURL } from "node:url";

/**
 * A faithful emulation of the Lambda Node.js runtime's `awslambda` global for response streaming:
 * `streamifyResponse` marks a handler as streaming, and `HttpResponseStream.from` writes the HTTP
 * prelude (JSON) followed by 8 NUL bytes before the body, exactly as the runtime's wire format.
 */
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const PRELUDE_DELIMITER = Buffer.alloc(8);

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

export function installAwsLambdaGlobal(): void {
  // Other libraries (e.g. @aws/lambda-invoke-store) may have created the object already: add to it.
  const g = globalThis as { awslambda?: Record<string, unknown> };
  g.awslambda ??= {};
  if (typeof g.awslambda.streamifyResponse === "function") return;
  Object.assign(g.awslambda, {
    streamifyResponse(handler: StreamingHandler) {
      Object.defineProperty(handler, STREAMING, { value: "response" });
      return handler;
    },
    HttpResponseStream: {
      from(stream: Writable, prelude: { statusCode?: number; headers?: Record<string, string> }) {
        stream.write(JSON.stringify(prelude));
        stream.write(PRELUDE_DELIMITER);
        return stream;
      },
    },
  });
}

/** The Lambda context object the local stack passes to handlers. */
export function lambdaContext(functionName: string, region: string, account: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const awsRequestId = randomUUID();
  return {
    awsRequestId,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: "512",
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${awsRequestId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}

let instance = 0;

/**
 * Loads a built Lambda bundle (the file that goes in the zip) with `env` applied to `process.env`
 * first, as the runtime would. Each call loads a fresh module instance (its cold start).
 */
export async function loadBundle<T>(bundlePath: string, env: Record<string, string>): Promise<T> {
  installAwsLambdaGlobal();
  Object.assign(process.env, env);
  const url = pathToFileURL(bundlePath);
  url.searchParams.set("instance", String(++instance));
  const mod = (await import(url.href)) as { handler?: T };
  if (typeof mod.handler !== "function") throw new Error(`${bundlePath} does not export a handler`);
  return mod.handler;
}

/** Splits the runtime's streaming wire format: the prelude (status, headers), then the body. */
export function readPrelude(
  stream: PassThrough,
  onPrelude: (prelude: { statusCode: number; headers: Record<string, string> }, rest: Buffer) => void,
): void {
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    const at = buf.indexOf(PRELUDE_DELIMITER);
    if (at < 0) return;
    stream.off("data", onData);
    stream.pause();
    let prelude: { statusCode?: number; headers?: Record<string, string> } = {};
    try {
      prelude = JSON.parse(buf.subarray(0, at).toString("utf8"));
    } catch {
      prelude = { statusCode: 502, headers: { "content-type": "application/json" } };
    }
    onPrelude(
      { statusCode: prelude.statusCode ?? 200, headers: prelude.headers ?? {} },
      buf.subarray(at + 8),
    );
  };
  stream.on("data", onData);
}
