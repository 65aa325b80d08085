import {
  type ErrorCode,
  isTerminalType,
  NOW_OFFSET,
  parseRecord,
  type ResultRecord,
  START_OFFSET,
  type TerminalStatus,
  terminalStatusOf,
} from "@stepstream/results-schema";
import { type CredentialSource, type Credentials, regionOf, signRequest } from "./sigv4.js";

/** Where the client finds the two endpoints, and how it signs. */
export interface ClientOptions {
  /** `POST` here starts an execution (the API Gateway stage URL, `terraform output api_endpoint`). */
  apiEndpoint: string;
  /** The streaming Function URL (`terraform output stream_url`). Defaults to what `start` returns. */
  streamUrl?: string;
  /** Signs with SigV4 when set. In Node, defaults to `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`. */
  credentials?: CredentialSource | null;
  /** Region for signing when the URL does not show one (local stack). Default `AWS_REGION` or `us-east-1`. */
  region?: string;
  /** Reconnect attempts after a dropped connection before giving up. Default 10. */
  maxReconnects?: number;
  /** Delay before the first reconnect, doubled each time up to 5 s. Default 200 ms. */
  reconnectDelayMs?: number;
  fetch?: typeof fetch;
}

/** What `start` returns (the API's `workflow` object). */
export interface StartedExecution {
  executionArn: string;
  /** The Function URL. */
  lambdaResultURL: string;
  /** `lambdaResultURL?executionArn=<url-encoded ARN>`: GET it for a JSON Lines stream. */
  completeLambdaResultURL: string;
  /**
   * When the execution started, as the API answered it: a string, as in the AWS sample's answer
   * (Step Functions' epoch seconds as API Gateway renders them, e.g. `"1.764625995123E9"`).
   * `Number(startDate) * 1000` is epoch ms; see `startedAt`.
   */
  startDate: string;
  /** `startDate` as a `Date` (`undefined` when the API answered none that parses). */
  startedAt: Date | undefined;
  /** Alias of `completeLambdaResultURL`. */
  streamUrl: string;
}

/** `startDate` (epoch seconds, as a string or a number, or an ISO-8601 string) as a `Date`. */
function parseStartDate(value: unknown): Date | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const seconds = Number(value);
  const date =
    typeof value === "string" && value.trim() !== "" && Number.isNaN(seconds)
      ? new Date(value)
      : new Date(seconds * 1000);
  return value === "" || Number.isNaN(date.getTime()) ? undefined : date;
}

/** How a stream ended. */
export interface StreamOutcome {
  status: TerminalStatus;
  /** The terminal record (for `succeeded`, the final result record). */
  terminal: ResultRecord;
  /** Offset of the last record delivered. */
  offset: string;
  /** Error details for `failed` and `timedOut`. */
  error?: { Error: string; Cause: string };
}

export interface StreamOptions {
  /** Start after this offset (`-1` = from the beginning, `now` = only new records). Default `-1`. */
  from?: string;
  signal?: AbortSignal;
  /** Called after a reconnect, with the offset resumed from. */
  onReconnect?: (offset: string, attempt: number) => void;
}

/** What is stored for an execution right now (see `StepstreamClient.results`). */
export interface ResultsSnapshot {
  /** The data records stored now (`result` and `final`), in offset order. */
  records: ResultRecord[];
  /** The terminal record, when the run has ended; `undefined` while it is still going. */
  terminal?: ResultRecord;
  /** How the run ended, or `running`. */
  status: TerminalStatus | "running";
  /** Offset after the last record read (resume a live stream from here). */
  offset: string;
}

/** An error the client raises, with the server's error code when there is one. */
export class StepstreamClientError extends Error {
  override readonly name = "StepstreamClientError";
  constructor(
    readonly code: ErrorCode | "Network" | "Aborted" | "Protocol",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A live stream of one execution's results. Iterate it for data records (`result` and the `final`
 * record, in offset order, each once); `outcome` resolves with the terminal status when the stream
 * ends. It resumes by itself from the last offset after a dropped connection or a server-side close.
 */
export interface ExecutionStream extends AsyncIterable<ResultRecord> {
  readonly executionArn: string;
  /** Offset of the last record delivered (`-1` before the first). */
  readonly offset: string;
  /** Resolves when the terminal record arrives; rejects on a non-retryable error or abort. */
  readonly outcome: Promise<StreamOutcome>;
}

const OFFSET_RE = /^\d{16}$/;

function envCredentials(): Credentials | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (!env?.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

function envRegion(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.AWS_REGION ?? env?.AWS_DEFAULT_REGION;
}

/** Waits `ms`, or until `signal` aborts; removes its abort listener either way (no listener leak). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** Codes of a connection that nothing answers: no server there (yet), so retrying is waiting. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** The system error code under a failed `fetch` (`TypeError: fetch failed` with `cause.code`). */
function unreachableCode(err: unknown): string | undefined {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 4; i++, e = e.cause as typeof e) {
    if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return e.code;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors)) {
      for (const x of errors) {
        const c = (x as { code?: unknown })?.code;
        if (typeof c === "string" && UNREACHABLE.has(c)) return c;
      }
    }
  }
  return undefined;
}

const UNREACHABLE_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused (nothing listens there)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * A typed stepstream client.
 *
 * @example
 * ```ts
 * const client = new StepstreamClient({ apiEndpoint, credentials });
 * const run = await client.run({ count: 5 });
 * for await (const record of run) console.log(record.Result);
 * console.log((await run.outcome).status); // "succeeded"
 * ```
 */
export class StepstreamClient {
  private readonly credentials: CredentialSource | undefined;
  private readonly region: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.credentials = options.credentials === null ? undefined : (options.credentials ?? envCredentials());
    this.region = options.region ?? envRegion() ?? "us-east-1";
    this.fetchImpl = options.fetch ?? ((...a) => fetch(...a));
  }

  /** Starts an execution with `input` as the workflow's input. */
  async start(input: unknown = {}, signal?: AbortSignal): Promise<StartedExecution> {
    const url = new URL(this.options.apiEndpoint);
    const body = JSON.stringify(input ?? {});
    const headers = await this.headers(
      url,
      "POST",
      "execute-api",
      { "content-type": "application/json" },
      body,
    );
    let res: Response;
    try {
      res = await this.fetchImpl(url, { method: "POST", headers, body, ...(signal ? { signal } : {}) });
    } catch (err) {
      const code = unreachableCode(err);
      throw new StepstreamClientError(
        "Network",
        `could not reach ${url.origin}: ${code ? (UNREACHABLE_TEXT[code] ?? code) : (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw errorFrom(res.status, text, "start");
    let parsed: {
      workflow?: {
        executionArn?: string;
        lambdaResultURL?: string;
        completeLambdaResultURL?: string;
        startDate?: unknown;
      };
    };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StepstreamClientError(
        "Protocol",
        `start answered ${res.status} with a body that is not JSON`,
      );
    }
    const w = parsed.workflow;
    if (!w?.executionArn || !w.lambdaResultURL || !w.completeLambdaResultURL) {
      throw new StepstreamClientError(
        "Protocol",
        "start answered without workflow.executionArn / lambdaResultURL",
      );
    }
    return {
      executionArn: w.executionArn,
      lambdaResultURL: w.lambdaResultURL,
      completeLambdaResultURL: w.completeLambdaResultURL,
      startDate: w.startDate === undefined || w.startDate === null ? "" : String(w.startDate),
      startedAt: parseStartDate(w.startDate),
      streamUrl: w.completeLambdaResultURL,
    };
  }

  /** Streams an execution's results (see `ExecutionStream`). */
  stream(executionArn: string, options: StreamOptions = {}, streamUrl?: string): ExecutionStream {
    const base = streamUrl ?? this.options.streamUrl;
    if (!base) {
      throw new StepstreamClientError(
        "BadRequest",
        "no stream URL: pass streamUrl in the options or call run()",
      );
    }
    return new LiveStream(this, base, executionArn, options);
  }

  /**
   * A snapshot: the records stored now, read with Durable Streams catch-up requests (JSON arrays,
   * following `Stream-Next-Offset` until `Stream-Up-To-Date`), without waiting for the run to end.
   * An unknown execution is a `NotFound` error at once.
   */
  async results(executionArn: string, signal?: AbortSignal, streamUrl?: string): Promise<ResultsSnapshot> {
    const base = streamUrl ?? this.options.streamUrl;
    if (!base) throw new StepstreamClientError("BadRequest", "no stream URL: pass streamUrl in the options");
    const records: ResultRecord[] = [];
    let terminal: ResultRecord | undefined;
    let offset: string = START_OFFSET;
    for (let page = 0; page < 100_000; page++) {
      const url = new URL(base);
      url.search = "";
      url.searchParams.set("executionArn", executionArn);
      url.searchParams.set("offset", offset);
      const headers = await this.headers(url, "GET", "lambda", { accept: "application/json" });
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method: "GET", headers, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (signal?.aborted) throw new StepstreamClientError("Aborted", "results aborted");
        throw new StepstreamClientError(
          "Network",
          `could not reach ${url.origin}: ${(err as Error).message}`,
        );
      }
      const text = await res.text();
      if (!res.ok) throw errorFrom(res.status, text, "results");
      let items: unknown;
      try {
        items = JSON.parse(text);
      } catch {
        throw new StepstreamClientError(
          "Protocol",
          "results: the stream URL answered a body that is not JSON",
        );
      }
      if (!Array.isArray(items))
        throw new StepstreamClientError("Protocol", "results: expected a JSON array");
      for (const item of items) {
        const record = parseRecord(item);
        if (isTerminalType(record.Type)) terminal = record;
        if (record.Type === "result" || record.Type === "final") records.push(record);
      }
      const next = res.headers.get("stream-next-offset");
      if (next) offset = next;
      if (res.headers.get("stream-closed") === "true" || terminal) break;
      if (res.headers.get("stream-up-to-date") === "true" || items.length === 0) break;
    }
    return {
      records,
      ...(terminal ? { terminal } : {}),
      status: terminal ? (terminalStatusOf(terminal.Type) as TerminalStatus) : "running",
      offset,
    };
  }

  /** Starts an execution and streams it. */
  async run(
    input: unknown = {},
    options: StreamOptions = {},
  ): Promise<ExecutionStream & { started: StartedExecution }> {
    const started = await this.start(input, options.signal);
    const s = this.stream(started.executionArn, options, this.options.streamUrl ?? started.lambdaResultURL);
    return Object.assign(s, { started });
  }

  /** @internal Opens one HTTP response of the stream URL. */
  async open(url: URL, signal: AbortSignal): Promise<Response> {
    const headers = await this.headers(url, "GET", "lambda", { accept: "application/x-ndjson" });
    return this.fetchImpl(url, { method: "GET", headers, signal });
  }

  private async headers(
    url: URL,
    method: string,
    service: "execute-api" | "lambda",
    headers: Record<string, string>,
    body?: string,
  ): Promise<Record<string, string>> {
    if (!this.credentials) return headers;
    return signRequest({
      url,
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      service,
      region: regionOf(url, this.region),
      credentials: this.credentials,
    });
  }

  /** @internal */
  get reconnect(): { max: number; delayMs: number } {
    return { max: this.options.maxReconnects ?? 10, delayMs: this.options.reconnectDelayMs ?? 200 };
  }
}

function errorFrom(status: number, text: string, what: string): StepstreamClientError {
  try {
    const body = JSON.parse(text) as { error?: { code?: ErrorCode; message?: string }; message?: string };
    if (body.error?.code)
      return new StepstreamClientError(body.error.code, `${what}: ${body.error.message}`, status);
    if (body.message)
      return new StepstreamClientError(
        status === 403 ? "Forbidden" : "BadRequest",
        `${what}: ${body.message}`,
        status,
      );
  } catch {
    // not JSON
  }
  return new StepstreamClientError(
    status >= 500 ? "Internal" : "BadRequest",
    `${what} answered HTTP ${status}`,
    status,
  );
}

class LiveStream implements ExecutionStream {
  private last: string;
  private settle!: { resolve: (o: StreamOutcome) => void; reject: (e: Error) => void };
  readonly outcome: Promise<StreamOutcome>;
  private consumed = false;

  constructor(
    private readonly client: StepstreamClient,
    private readonly base: string,
    readonly executionArn: string,
    private readonly options: StreamOptions,
  ) {
    this.last = options.from ?? START_OFFSET;
    this.outcome = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // Avoid an unhandled rejection when the caller only iterates.
    this.outcome.catch(() => undefined);
  }

  get offset(): string {
    return this.last;
  }

  [Symbol.asyncIterator](): AsyncIterator<ResultRecord> {
    if (this.consumed)
      throw new StepstreamClientError("BadRequest", "an ExecutionStream can be iterated once");
    this.consumed = true;
    return this.records();
  }

  private url(): URL {
    const url = new URL(this.base);
    url.search = "";
    url.searchParams.set("executionArn", this.executionArn);
    url.searchParams.set("offset", this.last);
    url.searchParams.set("live", "jsonl");
    return url;
  }

  private async *records(): AsyncGenerator<ResultRecord> {
    const { max, delayMs } = this.client.reconnect;
    const signal = this.options.signal;
    let failures = 0;
    let connects = 0;
    // Whether any request reached a server: a stream that never connected and meets a refused
    // connection fails at once (a wrong or stopped endpoint), instead of retrying for ~30 s.
    let reached = false;
    try {
      for (;;) {
        if (signal?.aborted) throw new StepstreamClientError("Aborted", "stream aborted");
        const ctrl = new AbortController();
        const onAbort = () => ctrl.abort();
        signal?.addEventListener("abort", onAbort, { once: true });
        let progressed = false;
        try {
          if (connects++ > 0) this.options.onReconnect?.(this.last, connects - 1);
          const res = await this.client.open(this.url(), ctrl.signal);
          reached = true;
          if (!res.ok) {
            const text = await res.text();
            const err = errorFrom(res.status, text, "stream");
            if (res.status < 500 && res.status !== 429) throw err;
            throw Object.assign(err, { retryable: true });
          }
          if (!res.body) throw new StepstreamClientError("Protocol", "stream response has no body");
          // `now` is resolved by the server: resume from where this response started, not from `now`.
          const start = res.headers.get("stream-next-offset");
          if (this.last === NOW_OFFSET && start) this.last = start;
          for await (const line of lines(res.body)) {
            if (!line.trim()) continue; // heartbeat
            const record = parseRecord(JSON.parse(line));
            const terminal = isTerminalType(record.Type);
            const seen = OFFSET_RE.test(this.last) && record.Offset <= this.last;
            // A terminal record is how the run ended, even when it was delivered before (a read at
            // the end of a closed stream sends it again): settle with it, never yield it twice.
            if (seen && !terminal) continue;
            if (!record.Synthetic) this.last = record.Offset;
            progressed = true;
            failures = 0;
            if ((record.Type === "result" || record.Type === "final") && !seen) yield record;
            if (terminal) {
              const status = terminalStatusOf(record.Type) as TerminalStatus;
              this.settle.resolve({
                status,
                terminal: record,
                offset: this.last,
                ...(record.Error ? { error: record.Error } : {}),
              });
              return;
            }
          }
          if (res.headers.get("stream-closed") === "true") {
            throw new StepstreamClientError(
              "StreamClosed",
              "stream: the execution has ended, but its terminal record has expired (records are kept result_ttl_days)",
            );
          }
          // The server closed without a terminal record (its connection bound or deadline): resume at once.
        } catch (err) {
          if (signal?.aborted) throw new StepstreamClientError("Aborted", "stream aborted");
          const e = err as StepstreamClientError & { retryable?: boolean };
          if (e instanceof StepstreamClientError && !e.retryable) throw e;
          if ((err as Error).name === "StepstreamError") throw err; // invalid record: not retryable
          const code = reached ? undefined : unreachableCode(err);
          if (code) {
            throw new StepstreamClientError(
              "Network",
              `could not reach the stream URL ${new URL(this.base).origin}: ${UNREACHABLE_TEXT[code] ?? code}`,
            );
          }
          if (++failures > max) {
            throw new StepstreamClientError("Network", `stream failed after ${max} reconnects: ${e.message}`);
          }
          await sleep(Math.min(5000, delayMs * 2 ** (failures - 1)), signal);
        } finally {
          signal?.removeEventListener("abort", onAbort);
          ctrl.abort();
        }
        if (!progressed && failures === 0) await sleep(delayMs, signal);
      }
    } catch (err) {
      this.settle.reject(err as Error);
      throw err;
    }
  }
}

/** Splits a byte stream into lines (works with Node's and browsers' fetch). */
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        yield buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
    }
    // A partial last line means the connection was cut mid-record: the resume reads it again.
  } finally {
    reader.releaseLock();
  }
}
