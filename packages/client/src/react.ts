import type { ResultRecord, TerminalStatus } from "@stepstream/results-schema";
import {
  createContext,
  createElement,
  type ReactNode,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { type ClientOptions, StepstreamClient, StepstreamClientError, type StreamOutcome } from "./client.js";
import type { Credentials } from "./sigv4.js";

/** Where a stream is: before it starts, while it reads, and how it ended. */
export type ExecutionStreamStatus =
  | "idle"
  | "connecting"
  | "streaming"
  | "reconnecting"
  | TerminalStatus
  /** The stream could not be read (a non-retryable HTTP error, or reconnects exhausted). */
  | "error";

/** Why a stream did not succeed: the workflow's own error, or the transport's. */
export interface ExecutionStreamError {
  /** `workflow`: the terminal record of a failed or timed-out execution; `stream`: reading failed. */
  source: "workflow" | "stream";
  /** The workflow's error name (`States.TaskFailed`, …) or the client's error code (`Forbidden`, `Network`, …). */
  code: string;
  message: string;
}

export interface UseExecutionStreamOptions {
  /**
   * Start after this offset (`-1`, the default, replays the execution from its first record). Read
   * once per execution: changing it while the same execution streams does not restart the stream.
   */
  from?: string;
  /** The client to read with. Default: the `StepstreamProvider`'s, else one made from `clientOptions`. */
  client?: StepstreamClient;
  /** Options for a client made by the hook (when neither `client` nor a provider gives one). */
  clientOptions?: ClientOptions;
  /** Keep at most this many records in `records` (the oldest are dropped; `dropped` counts them). Default 1000. */
  maxRecords?: number;
  /** Called once per execution, when its terminal record arrives. */
  onComplete?: (outcome: StreamOutcome) => void;
  /** Called for each new data record, in offset order, once. */
  onRecord?: (record: ResultRecord) => void;
  /** Called once if the stream cannot be read. */
  onError?: (error: ExecutionStreamError) => void;
}

export interface ExecutionStreamState {
  /** Data records (`result` and `final`), in offset order, each once; at most `maxRecords`. */
  records: ResultRecord[];
  status: ExecutionStreamStatus;
  /** Set when `status` is `failed`, `timedOut` or `error`. */
  error: ExecutionStreamError | null;
  /** Offset of the last record received (`-1` before the first): resume here with `from`. */
  offset: string;
  /** The terminal outcome once the stream has ended. */
  outcome: StreamOutcome | null;
  /** How many records were dropped from `records` to respect `maxRecords`. */
  dropped: number;
}

/** Default bound on `records`. */
export const DEFAULT_MAX_RECORDS = 1000;

const StepstreamContext = createContext<StepstreamClient | null>(null);

/**
 * Gives every `useExecutionStream` below it one client.
 *
 * @example
 * ```tsx
 * const client = new StepstreamClient({ apiEndpoint, streamUrl, credentials });
 * root.render(<StepstreamProvider client={client}><App /></StepstreamProvider>);
 * ```
 */
export function StepstreamProvider(props: { client: StepstreamClient; children?: ReactNode }) {
  return createElement(StepstreamContext.Provider, { value: props.client }, props.children);
}

/** The client of the nearest `StepstreamProvider`, or `null`. */
export function useStepstreamClient(): StepstreamClient | null {
  return useContext(StepstreamContext);
}

/** What makes two `clientOptions` the same client: every value, and whether functions are given. */
function clientKey(o: ClientOptions): string {
  const c = o.credentials;
  return JSON.stringify([
    o.apiEndpoint,
    o.streamUrl ?? null,
    o.region ?? null,
    o.maxReconnects ?? null,
    o.reconnectDelayMs ?? null,
    c === null
      ? null
      : typeof c === "function"
        ? "provider"
        : c
          ? [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? null]
          : "env",
    typeof o.fetch === "function",
  ]);
}

/** A client for the options in `ref`, whose credentials provider and `fetch` are always the latest. */
function clientFrom(ref: { current: ClientOptions | undefined }): StepstreamClient {
  const o = ref.current as ClientOptions;
  return new StepstreamClient({
    ...o,
    ...(typeof o.credentials === "function"
      ? {
          credentials: () => {
            const c = ref.current?.credentials;
            return typeof c === "function" ? c() : Promise.resolve(c as Credentials);
          },
        }
      : {}),
    ...(o.fetch
      ? { fetch: (...args: Parameters<typeof fetch>) => (ref.current?.fetch ?? fetch)(...args) }
      : {}),
  });
}

const initialState = (from: string): ExecutionStreamState => ({
  records: [],
  status: "idle",
  error: null,
  offset: from,
  outcome: null,
  dropped: 0,
});

function streamError(err: unknown): ExecutionStreamError {
  if (err instanceof StepstreamClientError) return { source: "stream", code: err.code, message: err.message };
  const e = err as Error;
  return { source: "stream", code: e?.name ?? "Error", message: e?.message ?? String(err) };
}

/**
 * Streams an execution's results into React state: records in offset order, each once (also across
 * the client's automatic reconnects), at most `maxRecords` of them, until the terminal record. The
 * stream is aborted when the component unmounts or `executionArn` changes; `onComplete` is called
 * exactly once per execution. Pass `null` to stream nothing.
 *
 * @example
 * ```tsx
 * function Progress({ arn }: { arn: string }) {
 *   const { records, status, error } = useExecutionStream(arn, { clientOptions: { apiEndpoint, streamUrl, credentials } });
 *   return (
 *     <>
 *       <ul>{records.map((r) => <li key={r.Offset}>{String(r.Result)}</li>)}</ul>
 *       <p>{status}{error ? `: ${error.message}` : ""}</p>
 *     </>
 *   );
 * }
 * ```
 */
export function useExecutionStream(
  executionArn: string | null | undefined,
  options: UseExecutionStreamOptions = {},
): ExecutionStreamState {
  const from = options.from ?? "-1";
  const provided = useStepstreamClient();
  // A client made from options is rebuilt only when what identifies the endpoints and the identity
  // changes, so inline `clientOptions` objects are fine; functions in them (a credentials provider,
  // `fetch`) are called through a ref, so a new function on each render does not restart the stream.
  const co = options.clientOptions;
  const coRef = useRef(co);
  coRef.current = co;
  const key = co ? clientKey(co) : null;
  const own = useMemo(
    () => (options.client || provided || key === null ? null : clientFrom(coRef)),
    [options.client, provided, key],
  );
  const client = options.client ?? provided ?? own;

  const [state, setState] = useState<ExecutionStreamState>(() => initialState(from));
  // Callbacks and read-once options live in refs so a re-render never restarts the stream.
  const latest = useRef(options);
  latest.current = options;
  const fromRef = useRef(from);
  fromRef.current = from;
  const completed = useRef<string | null>(null);

  useEffect(() => {
    if (!executionArn) {
      setState(initialState(fromRef.current));
      return;
    }
    if (!client) {
      const error: ExecutionStreamError = {
        source: "stream",
        code: "BadRequest",
        message:
          "useExecutionStream needs a client: pass `client` or `clientOptions`, or wrap it in a StepstreamProvider",
      };
      setState({ ...initialState(fromRef.current), status: "error", error });
      return;
    }
    const start = fromRef.current;
    const max = Math.max(1, latest.current.maxRecords ?? DEFAULT_MAX_RECORDS);
    const abort = new AbortController();
    let last = start;
    setState({ ...initialState(start), status: "connecting" });

    const stream = client.stream(executionArn, {
      from: start,
      signal: abort.signal,
      onReconnect: () => {
        if (!abort.signal.aborted)
          setState((s) => (s.status === "streaming" ? { ...s, status: "reconnecting" } : s));
      },
    });

    (async () => {
      try {
        for await (const record of stream) {
          if (abort.signal.aborted) return;
          // The client delivers in offset order once; this guard also holds if a caller's `from`
          // overlaps what a reconnect replays.
          if (last !== "-1" && record.Offset <= last) continue;
          last = record.Offset;
          setState((s) => {
            const records =
              s.records.length >= max
                ? [...s.records.slice(s.records.length - max + 1), record]
                : [...s.records, record];
            return {
              ...s,
              records,
              dropped: s.dropped + (s.records.length + 1 - records.length),
              offset: record.Offset,
              status: "streaming",
            };
          });
          latest.current.onRecord?.(record);
        }
        const outcome = await stream.outcome;
        if (abort.signal.aborted) return;
        const failed = outcome.status !== "succeeded";
        const error: ExecutionStreamError | null = failed
          ? {
              source: "workflow",
              code: outcome.error?.Error ?? outcome.status,
              message:
                outcome.error?.Cause ||
                outcome.error?.Error ||
                `the execution ${outcome.status === "failed" ? "failed" : "timed out"}`,
            }
          : null;
        setState((s) => ({ ...s, status: outcome.status, outcome, error, offset: outcome.offset }));
        if (completed.current !== executionArn) {
          completed.current = executionArn;
          latest.current.onComplete?.(outcome);
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        const error = streamError(err);
        setState((s) => ({ ...s, status: "error", error }));
        latest.current.onError?.(error);
      }
    })();

    return () => abort.abort();
  }, [executionArn, client]);

  // While no execution is selected the state reflects `from`.
  return executionArn ? state : { ...state, offset: from };
}

export type { ResultRecord, StreamOutcome, TerminalStatus };
