import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";

/**
 * The Lambda Node.js runtime's `awslambda` global and its invocation response stream, as AWS's own
 * runtime interface client (aws/aws-lambda-nodejs-runtime-interface-client, `src/ResponseStream.js`,
 * `src/HttpResponseStream.js`) implements them, re-implemented here (not copied):
 *
 * - `streamifyResponse` marks a handler as streaming.
 * - `HttpResponseStream.from(stream, prelude)` writes NOTHING: it sets the stream's content type to
 *   `application/vnd.awslambda.http-integration-response` and installs `_onBeforeFirstWrite`, which
 *   writes the JSON prelude and 8 NUL bytes on the stream's FIRST `write()`. A handler that calls
 *   `end()` without a `write()` therefore sends no prelude (its status and headers are lost), and
 *   `end(chunk)` without a prior `write()` sends the chunk with no prelude at all (the runtime's
 *   `write` override is bypassed by `end`): RIC issue #97.
 * - The response stream is the body of an HTTP request to the Runtime API: its `write()` returns
 *   `false` past a 16 KiB high-water mark (`http.ClientRequest`'s) and `'drain'` follows, so the
 *   transport's back-pressure reaches the handler.
 * - Nothing tells the handler that the client went away: the stream emits no `close` or `error` when
 *   the Function URL's client disconnects (RIC issue #145); the platform keeps accepting the bytes.
 *
 * Why not the RIC itself: see apps/local/README.md ("Which Lambda runtime code runs the streamer").
 */
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
/** The content type `HttpResponseStream.from` sets: the body starts with the JSON prelude. */
export const PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
/** The runtime's default content type of a streamed response. */
export const DEFAULT_STREAM_CONTENT_TYPE = "application/octet-stream";
export const PRELUDE_DELIMITER = Buffer.alloc(8);
/** `http.ClientRequest`'s default `writableHighWaterMark`, the RIC's response stream's. */
export const RESPONSE_STREAM_HIGH_WATER_MARK = 16 * 1024;

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

/** Where an invocation's response bytes go: the platform's side of the Runtime API request. */
export interface InvocationTransport {
  /** Accepts one chunk; calls `done` when it may take the next (back-pressure). */
  deliver(chunk: Buffer, contentType: string, done: (err?: Error | null) => void): void;
  /** The handler ended its stream (all chunks delivered). */
  finish(contentType: string, done: (err?: Error | null) => void): void;
}

/** The invocation response stream the runtime hands a streaming handler. */
export class InvocationResponseStream extends Writable {
  /** Set by `HttpResponseStream.from`; called once, before the first write's bytes. */
  _onBeforeFirstWrite: ((write: (chunk: string | Uint8Array) => void) => void) | undefined;
  private contentType = DEFAULT_STREAM_CONTENT_TYPE;
  private written = false;

  constructor(private readonly transport: InvocationTransport) {
    super({ highWaterMark: RESPONSE_STREAM_HIGH_WATER_MARK });
  }

  /** As the runtime's: only before the first write. */
  setContentType(contentType: string): void {
    if (this.written) throw new Error("Cannot set content-type, too late.");
    this.contentType = contentType;
  }

  override write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    let c = chunk;
    if (typeof c !== "string" && !Buffer.isBuffer(c) && !(c instanceof Uint8Array)) c = JSON.stringify(c);
    if (!this.written && typeof this._onBeforeFirstWrite === "function") {
      this._onBeforeFirstWrite((ch) => super.write(ch));
    }
    this.written = true;
    // biome-ignore lint/suspicious/noExplicitAny: Writable.write's overloads
    return (super.write as any)(c, encoding, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.written = true;
    this.transport.deliver(chunk, this.contentType, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.transport.finish(this.contentType, done);
  }
}

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
      from(
        stream: InvocationResponseStream,
        prelude: { statusCode?: number; headers?: Record<string, string> },
      ) {
        stream.setContentType(PRELUDE_CONTENT_TYPE);
        // JSON.stringify is what the runtime does; a NUL byte cannot occur in its output.
        const json = JSON.stringify(prelude);
        stream._onBeforeFirstWrite = (write) => {
          write(json);
          write(new Uint8Array(PRELUDE_DELIMITER.length));
        };
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
