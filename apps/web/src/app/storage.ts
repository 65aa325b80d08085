import type { ResultRecord, TerminalStatus } from "@stepstream/client";

/** An execution this browser started or opened, as the recent list shows it. */
export interface RecentExecution {
  executionArn: string;
  /** Epoch ms when this browser started or first opened it. */
  startedAt: number;
  /** Epoch ms when the execution started (the start answer's startDate), for runs started here. */
  executionStartedAt?: number;
  /** Expected number of results, when this browser started it. */
  count: number | null;
  input: Record<string, unknown> | null;
  status: "running" | TerminalStatus | "error";
  /** Data records seen. */
  records: number;
}

const RECENT_KEY = "stepstream.recent.v1";
const RECORDS_KEY = "stepstream.records.v1:";
/** How many executions the recent list keeps (their record caches go with them). */
export const MAX_RECENT = 20;
/** Records cached per execution so a reload resumes instead of replaying. */
export const MAX_CACHED_RECORDS = 1000;

function read<T>(key: string): T | null {
  try {
    const raw = window.localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function write(key: string, value: unknown): void {
  try {
    window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled (private mode): the view still works, only without the cache.
  }
}

export function loadRecent(): RecentExecution[] {
  const list = read<RecentExecution[]>(RECENT_KEY);
  return Array.isArray(list) ? list.filter((e) => typeof e?.executionArn === "string") : [];
}

/** Adds or updates an execution (newest first) and drops the caches of those that fall off the list. */
export function upsertRecent(entry: Partial<RecentExecution> & { executionArn: string }): RecentExecution[] {
  const list = loadRecent();
  const old = list.find((e) => e.executionArn === entry.executionArn);
  const merged: RecentExecution = {
    startedAt: Date.now(),
    count: null,
    input: null,
    status: "running",
    records: 0,
    ...old,
    ...entry,
  };
  const next = old
    ? list.map((e) => (e.executionArn === entry.executionArn ? merged : e))
    : [merged, ...list];
  for (const dropped of next.slice(MAX_RECENT)) {
    try {
      window.localStorage.removeItem(RECORDS_KEY + dropped.executionArn);
    } catch {
      // ignore
    }
  }
  const kept = next.slice(0, MAX_RECENT);
  write(RECENT_KEY, kept);
  return kept;
}

/** Drops an execution (and its cached records) from the recent list, e.g. an ARN that cannot be read. */
export function removeRecent(executionArn: string): RecentExecution[] {
  const kept = loadRecent().filter((e) => e.executionArn !== executionArn);
  try {
    window.localStorage.removeItem(RECORDS_KEY + executionArn);
  } catch {
    // ignore
  }
  write(RECENT_KEY, kept);
  return kept;
}

export interface CachedRecords {
  /** Offset of the last cached record. */
  offset: string;
  records: ResultRecord[];
}

export function loadRecords(executionArn: string): CachedRecords | null {
  const c = read<CachedRecords>(RECORDS_KEY + executionArn);
  return c && typeof c.offset === "string" && Array.isArray(c.records) ? c : null;
}

export function saveRecords(executionArn: string, records: ResultRecord[], offset: string): void {
  write(RECORDS_KEY + executionArn, { offset, records: records.slice(-MAX_CACHED_RECORDS) });
}

/** What the address bar holds: the execution, the offset read so far, and the expected count. */
export interface UrlState {
  executionArn: string | null;
  offset: string;
  count: number | null;
}

export function readUrl(): UrlState {
  const p = new URLSearchParams(window.location.search);
  const count = Number(p.get("count"));
  return {
    executionArn: p.get("execution"),
    offset: p.get("offset") ?? "-1",
    count: Number.isInteger(count) && count > 0 ? count : null,
  };
}

export function writeUrl(s: UrlState, mode: "push" | "replace"): void {
  const p = new URLSearchParams();
  if (s.executionArn) {
    p.set("execution", s.executionArn);
    p.set("offset", s.offset);
    if (s.count) p.set("count", String(s.count));
  }
  const query = p.toString();
  const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
  if (url === `${window.location.pathname}${window.location.search}`) return;
  if (mode === "push") window.history.pushState(null, "", url);
  else window.history.replaceState(null, "", url);
}
