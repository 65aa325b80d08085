/** Thrown by a sink's `write` when the client has disconnected: the end of a stream, not a failure. */
export class ClientGoneError extends Error {
  override readonly name = "ClientGoneError";
  constructor() {
    super("the client has gone");
  }
}

/** Where a response goes: the Lambda response stream, or a test double. */
export interface ResponseSink {
  /** Sends the status line and headers. Called once, before any `write`. */
  open(statusCode: number, headers: Record<string, string>): void;
  /** Sends a chunk of the body now (the Lambda runtime flushes each write). */
  write(chunk: string): Promise<void>;
  /** Ends the response. */
  end(): Promise<void>;
}

export interface WritableLike {
  write(chunk: string): boolean;
  end(cb?: () => void): void;
  once(event: "drain" | "close" | "error", cb: () => void): void;
  readonly destroyed?: boolean;
  readonly writableEnded?: boolean;
}

/** The `awslambda` global the Lambda Node.js runtime provides for response streaming. */
export interface AwsLambdaGlobal {
  streamifyResponse<E, C>(
    handler: (event: E, responseStream: WritableLike, context: C) => Promise<void>,
  ): (event: E, context: C) => Promise<void>;
  HttpResponseStream: {
    from(
      stream: WritableLike,
      prelude: { statusCode: number; headers: Record<string, string> },
    ): WritableLike;
  };
}

/** The runtime's `awslambda` global, when running inside Lambda (or the local stack's emulation of it). */
export function awsLambdaGlobal(): AwsLambdaGlobal | undefined {
  return (globalThis as unknown as { awslambda?: AwsLambdaGlobal }).awslambda;
}

/**
 * A sink over the Lambda response stream (`awslambda.HttpResponseStream`), honouring back-pressure.
 *
 * The runtime sends the prelude (status and headers) only on the stream's FIRST `write()`
 * (`HttpResponseStream.from` installs `_onBeforeFirstWrite`; aws-lambda-nodejs-runtime-interface-client
 * `src/HttpResponseStream.js`, issue #97): a stream ended with no write reaches the client as a bare
 * `200` with none of our headers. So `open` writes an empty chunk at once: the prelude leaves then,
 * and every response, empty or not (HEAD, a long-poll `204`), carries its status and headers, before
 * any record exists (JSON Lines' `Stream-Next-Offset`).
 */
export function lambdaSink(responseStream: WritableLike, lambda: AwsLambdaGlobal): ResponseSink {
  let body: WritableLike | undefined;
  const open = (statusCode: number, headers: Record<string, string>) => {
    const b = lambda.HttpResponseStream.from(responseStream, { statusCode, headers });
    body = b;
    b.write("");
    return b;
  };
  return {
    open(statusCode, headers) {
      open(statusCode, headers);
    },
    async write(chunk) {
      if (!body) throw new Error("write before open");
      if (body.destroyed || body.writableEnded) throw new ClientGoneError();
      if (!body.write(chunk)) {
        await new Promise<void>((resolve) => {
          body?.once("drain", resolve);
          body?.once("close", resolve);
        });
      }
    },
    async end() {
      const b = body ?? open(204, {});
      if (b.destroyed || b.writableEnded) return;
      await new Promise<void>((resolve) => {
        b.once("close", resolve);
        b.end(resolve);
      });
    },
  };
}
