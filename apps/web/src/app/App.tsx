import type { ResultRecord, StepstreamClient, StreamOutcome } from "@stepstream/client";
import { type ExecutionStreamStatus, useExecutionStream } from "@stepstream/client/react";
import { type FormEvent, useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  loadRecent,
  loadRecords,
  type RecentExecution,
  readUrl,
  removeRecent,
  saveRecords,
  upsertRecent,
  writeUrl,
} from "./storage.js";

/** What the live panel shows: an execution, where to start reading, and what was already read. */
interface Selection {
  executionArn: string;
  /** Offset to resume after (`-1`: from the beginning). */
  from: string;
  /** Records already read before a reload (up to `from`), restored from this browser's cache. */
  restored: ResultRecord[];
  count: number | null;
  /** When the execution started (epoch ms, from the start answer's startDate), when known. */
  startedAtMs: number | null;
  /** Bumped to reopen the same execution from the start. */
  nonce: number;
}

/** The selection the address bar describes: resume after its offset when the records up to it are cached. */
function selectionFromUrl(): Selection | null {
  const url = readUrl();
  if (!url.executionArn) return null;
  const cached = loadRecords(url.executionArn);
  const resumable = url.offset !== "-1" && cached !== null && cached.offset >= url.offset;
  const known = loadRecent().find((e) => e.executionArn === url.executionArn);
  return {
    executionArn: url.executionArn,
    from: resumable ? url.offset : "-1",
    restored: resumable ? cached.records.filter((r) => r.Offset <= url.offset) : [],
    count: url.count ?? known?.count ?? null,
    startedAtMs: known?.executionStartedAt ?? null,
    nonce: 0,
  };
}

const shortId = (arn: string) => arn.split(":").pop() ?? arn;

export function App({ client }: { client: StepstreamClient }) {
  const [selection, setSelection] = useState<Selection | null>(selectionFromUrl);
  const [recent, setRecent] = useState<RecentExecution[]>(loadRecent);

  useEffect(() => {
    const onPop = () => setSelection(selectionFromUrl());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const open = useCallback((entry: RecentExecution) => {
    writeUrl({ executionArn: entry.executionArn, offset: "-1", count: entry.count }, "push");
    setSelection((s) => ({
      executionArn: entry.executionArn,
      from: "-1",
      restored: [],
      count: entry.count,
      startedAtMs: entry.executionStartedAt ?? null,
      nonce: (s?.nonce ?? 0) + 1,
    }));
  }, []);

  const started = useCallback(
    (executionArn: string, input: Record<string, unknown>, startedAtMs: number | null) => {
      const count = typeof input.count === "number" ? input.count : 5;
      setRecent(
        upsertRecent({
          executionArn,
          startedAt: Date.now(),
          ...(startedAtMs !== null ? { executionStartedAt: startedAtMs } : {}),
          count,
          input,
          status: "running",
          records: 0,
        }),
      );
      writeUrl({ executionArn, offset: "-1", count }, "push");
      setSelection((s) => ({
        executionArn,
        from: "-1",
        restored: [],
        count,
        startedAtMs,
        nonce: (s?.nonce ?? 0) + 1,
      }));
    },
    [],
  );

  return (
    <div className="page">
      <header className="masthead">
        <h1>
          stepstream <span>live view</span>
        </h1>
        <p>
          Start a workflow and watch its results arrive. Requests are signed by the local stack; this page
          holds no credentials.
        </p>
      </header>
      <RunForm client={client} onStarted={started} />
      {selection ? (
        <ExecutionView
          key={`${selection.executionArn}#${selection.nonce}`}
          selection={selection}
          onChange={(entry) => setRecent(upsertRecent(entry))}
          onUnreadable={(arn) => setRecent(removeRecent(arn))}
        />
      ) : (
        <section className="panel empty">
          No execution selected: start one above, or reopen a recent one.
        </section>
      )}
      <RecentList recent={recent} current={selection?.executionArn ?? null} onOpen={open} />
    </div>
  );
}

function numberOrUndefined(value: FormDataEntryValue | null): number | undefined {
  if (value === null || String(value).trim() === "") return undefined;
  return Number(value);
}

function RunForm({
  client,
  onStarted,
}: {
  client: StepstreamClient;
  onStarted: (executionArn: string, input: Record<string, unknown>, startedAtMs: number | null) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const input: Record<string, unknown> = {};
    const fields = {
      count: numberOrUndefined(form.get("count")),
      concurrency: numberOrUndefined(form.get("concurrency")),
      stepDurationMs: numberOrUndefined(form.get("stepDurationMs")),
      failAt: numberOrUndefined(form.get("failAt")),
    };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) input[k] = v;
    setBusy(true);
    setError(null);
    try {
      const started = await client.start(input);
      onStarted(started.executionArn, input, started.startedAt?.getTime() ?? null);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel run-form" onSubmit={submit} aria-label="Start a run">
      <div className="fields">
        <label>
          Results
          <input name="count" type="number" min={1} max={1000} defaultValue={5} required />
        </label>
        <label>
          Concurrency
          <input name="concurrency" type="number" min={1} max={40} defaultValue={1} />
        </label>
        <label>
          Step duration (ms)
          <input name="stepDurationMs" type="number" min={0} max={60000} placeholder="0" />
        </label>
        <label>
          Fail at step
          <input name="failAt" type="number" min={0} max={999} placeholder="none" />
        </label>
      </div>
      <button type="submit" disabled={busy}>
        {busy ? "Starting…" : "Start run"}
      </button>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

const STATUS_TEXT: Record<ExecutionStreamStatus, string> = {
  idle: "waiting",
  connecting: "connecting…",
  streaming: "running",
  reconnecting: "reconnecting…",
  succeeded: "succeeded",
  failed: "failed",
  timedOut: "timed out",
  error: "stream error",
};

/** Stream errors that mean "no such execution here": the ARN is malformed, or names another state machine. */
const UNREADABLE = new Set(["InvalidArn", "BadRequest", "NotFound"]);
/** How long a stream may show nothing before the view says so, instead of "connecting…". */
export const NO_RECORD_YET_MS = 3000;

function ExecutionView({
  selection,
  onChange,
  onUnreadable,
}: {
  selection: Selection;
  onChange: (entry: Partial<RecentExecution> & { executionArn: string }) => void;
  onUnreadable: (executionArn: string) => void;
}) {
  const { executionArn, count } = selection;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const onUnreadableRef = useRef(onUnreadable);
  onUnreadableRef.current = onUnreadable;
  // "ended after": from the execution's start (the start answer's startDate) to the terminal
  // record's write, both on the service's clock; not from when this page began reading.
  const [ended, setEnded] = useState<{ ms: number; from: "start" | "first record" } | null>(null);
  const firstWrittenAt = useRef<number | null>(selection.restored[0]?.WrittenAt ?? null);
  const [quiet, setQuiet] = useState(false);

  const onComplete = useCallback(
    (outcome: StreamOutcome) => {
      const end = outcome.terminal.WrittenAt;
      if (selection.startedAtMs !== null) setEnded({ ms: end - selection.startedAtMs, from: "start" });
      else if (firstWrittenAt.current !== null)
        setEnded({ ms: end - firstWrittenAt.current, from: "first record" });
      onChangeRef.current({ executionArn, status: outcome.status });
    },
    [executionArn, selection.startedAtMs],
  );
  const { records, status, error, offset } = useExecutionStream(executionArn, {
    from: selection.from,
    onComplete,
    onRecord: (r) => {
      firstWrittenAt.current ??= r.WrittenAt;
    },
    onError: (e) => {
      // A bad or unknown ARN is dropped from the recent list: reopening it can only fail again.
      if (UNREADABLE.has(e.code)) onUnreadableRef.current(executionArn);
      else onChangeRef.current({ executionArn, status: "error" });
    },
  });
  const silent = records.length === 0 && selection.restored.length === 0;
  useEffect(() => {
    if (!silent || (status !== "connecting" && status !== "streaming")) return setQuiet(false);
    const t = setTimeout(() => setQuiet(true), NO_RECORD_YET_MS);
    return () => clearTimeout(t);
  }, [silent, status]);

  // What was read before a reload, then what this page has read: each offset once, in order.
  const all = useMemo(() => {
    const seen = new Set<string>();
    const out: ResultRecord[] = [];
    for (const r of [...selection.restored, ...records]) {
      if (seen.has(r.Offset)) continue;
      seen.add(r.Offset);
      out.push(r);
    }
    return out.sort((a, b) => (a.Offset < b.Offset ? -1 : a.Offset > b.Offset ? 1 : 0));
  }, [selection.restored, records]);

  // Keep the address bar and the cache at the last offset read, so a reload resumes right here.
  useEffect(() => {
    if (offset === "-1" || offset === selection.from) return;
    saveRecords(executionArn, all, offset);
    writeUrl({ executionArn, offset, count }, "replace");
    onChangeRef.current({ executionArn, records: all.length });
  }, [offset, all, executionArn, count, selection.from]);

  const terminal = status === "succeeded" || status === "failed" || status === "timedOut";
  const expected = count ?? (terminal ? all.length : null);
  const pct = expected ? Math.min(100, Math.round((all.length / Math.max(1, expected)) * 100)) : null;
  const first = all[0]?.WrittenAt;

  return (
    <section className="panel execution" aria-label="Execution" data-status={status}>
      <div className="execution-head">
        <div>
          <h2>Execution</h2>
          <code className="arn" title={executionArn}>
            {shortId(executionArn)}
          </code>
        </div>
        <span className={`badge badge-${status}`} data-testid="status" role="status">
          {quiet ? "no records yet" : STATUS_TEXT[status]}
        </span>
      </div>
      <div
        className={`progress${pct === null ? " indeterminate" : ""}${status === "failed" || status === "error" ? " bad" : ""}`}
        role="progressbar"
        aria-label="Results received"
        aria-valuemin={0}
        aria-valuemax={expected ?? undefined}
        aria-valuenow={all.length}
        data-testid="progress"
      >
        <div style={{ width: pct === null ? "30%" : `${pct}%` }} />
      </div>
      <p className="progress-text">
        <span data-testid="progress-count">
          {all.length}
          {expected ? ` / ${expected}` : ""} results
        </span>
        {ended !== null ? (
          <span data-testid="ended">
            {" "}
            · ended {(ended.ms / 1000).toFixed(1)} s after{" "}
            {ended.from === "start" ? "it started" : "its first record"}
          </span>
        ) : null}
      </p>
      {quiet ? (
        <p className="notice" data-testid="no-records">
          No record yet after {NO_RECORD_YET_MS / 1000} s. A run that has just started writes its first record
          after its first step.
        </p>
      ) : null}
      {error ? (
        <div className="error" role="alert" data-testid="error">
          <strong>{error.code}</strong>
          <span>{error.message}</span>
        </div>
      ) : null}
      <ol className="records" data-testid="records">
        {all.map((r) => (
          <li
            key={r.Offset}
            className={`record record-${r.Type}`}
            data-testid="record"
            data-offset={r.Offset}
          >
            <span className="record-result">
              {typeof r.Result === "string" ? r.Result : JSON.stringify(r.Result)}
            </span>
            <span className="record-meta">
              {r.Type === "final" ? <span className="final">final</span> : null}
              <span>
                {first !== undefined && r.WrittenAt !== undefined
                  ? `+${((r.WrittenAt - first) / 1000).toFixed(2)} s`
                  : ""}
              </span>
              <code title={`offset ${r.Offset}`}>{r.Offset.replace(/^0+(?=\d)/, "")}</code>
            </span>
          </li>
        ))}
      </ol>
      <p className="resume">
        Terminal:{" "}
        <code>
          stepstream stream {executionArn}
          {offset !== "-1" && !terminal ? ` --from ${offset}` : ""}
        </code>
      </p>
    </section>
  );
}

const RECENT_STATUS: Record<RecentExecution["status"], string> = {
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  timedOut: "timed out",
  error: "stream error",
};

function RecentList({
  recent,
  current,
  onOpen,
}: {
  recent: RecentExecution[];
  current: string | null;
  onOpen: (entry: RecentExecution) => void;
}) {
  if (recent.length === 0) return null;
  return (
    <section className="panel recent" aria-label="Recent executions">
      <h2>Recent executions</h2>
      <ul>
        {recent.map((e) => (
          <li key={e.executionArn} className={e.executionArn === current ? "current" : undefined}>
            <button type="button" onClick={() => onOpen(e)} title="Reopen its full results">
              <code>{shortId(e.executionArn)}</code>
              <span className={`badge badge-${e.status}`}>{RECENT_STATUS[e.status]}</span>
              <span className="recent-meta">
                {e.records}
                {e.count ? `/${e.count}` : ""} · {new Date(e.startedAt).toLocaleTimeString()}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
