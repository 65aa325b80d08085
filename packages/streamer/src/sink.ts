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

/** A sink over the Lambda response stream (`awslambda.HttpResponseStream`), honouring back-pressure. */
export function lambdaSink(responseStream: WritableLike, lambda: AwsLambdaGlobal): ResponseSink {
  let body: WritableLike | undefined;
  return {
    open(statusCode, headers) {
      body = lambda.HttpResponseStream.from(responseStream, { statusCode, headers });
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
      const b = body ?? lambda.HttpResponseStream.from(responseStream, { statusCode: 204, headers: {} });
      if (b.destroyed || b.writableEnded) return;
      await new Promise<void>((resolve) => {
        b.once("close", resolve);
        b.end(resolve);
      });
    },
  };
}
