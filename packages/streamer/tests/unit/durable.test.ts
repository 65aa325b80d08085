import {
  encodeOffset,
  parseReadPosition,
  parseRecord,
  type RecordType,
  type ResultRecord,
  writeTime,
} from "@stepstream/results-schema";
import { describe, expect, it } from "vitest";
import type { StreamerConfig } from "../../src/config.js";
import { CURSOR_EPOCH_MS, CURSOR_INTERVAL_MS, MAX_CHUNK_BYTES } from "../../src/durable/protocol.js";
import { serveDurable } from "../../src/durable.js";
import type { LiveMode, StreamRequest } from "../../src/request.js";
import { serve } from "../../src/serve.js";
import type { ResponseSink } from "../../src/sink.js";
import type { LogEntry, ResultReader } from "../../src/store.js";

const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream";
const ARN =
  "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2c1a-7d3b-4e5f-9a6b-1c2d3e4f5a6b";
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
/** An execution the start API started at T0 (its name carries the start time). */
const STARTED = `arn:aws:states:us-east-1:123456789012:express:stepstream:ss-${T0}-req-1:0f8e2c1a-7d3b-4e5f-9a6b-1c2d3e4f5a6b`;

// ---------------------------------------------------------------- doubles

/** A fake clock: `sleep` advances time at once, so waits cost nothing and are exact. */
function fakeClock(start = T0) {
  const clock = {
    t: start,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}
type Clock = ReturnType<typeof fakeClock>;

interface Slot {
  seq: number;
  record: ResultRecord | null;
  /** Time from which a read sees the slot. */
  visibleAt: number;
}

/** An in-memory results table for one or more executions; records can become visible later. */
class FakeReader implements ResultReader {
  readonly slots = new Map<string, Slot[]>();
  reads = 0;
  constructor(private readonly clock: Clock) {}

  /** Appends a record of `type` for `arn`, written (and visible) at `at`. */
  append(
    type: RecordType = "result",
    opts: { at?: number; arn?: string; result?: unknown } = {},
  ): ResultRecord {
    const arn = opts.arn ?? ARN;
    const list = this.slots.get(arn) ?? [];
    const seq = list.length;
    const at = opts.at ?? this.clock.t;
    const record = parseRecord({
      ExecutionArn: arn,
      Offset: encodeOffset(seq),
      Type: type,
      RecordKey: `step-${seq}`,
      Result: opts.result ?? { step: seq },
      ...writeTime(at),
      ...(type === "result" ? {} : { FinalResult: true }),
      ...(type === "error" ? { Error: { Error: "Boom", Cause: "step failed" } } : {}),
    });
    list.push({ seq, record, visibleAt: at });
    this.slots.set(arn, list);
    return record;
  }

  /** Appends an expired slot (the store returns `record: null`). */
  appendExpired(arn = ARN): void {
    const list = this.slots.get(arn) ?? [];
    list.push({ seq: list.length, record: null, visibleAt: this.clock.t });
    this.slots.set(arn, list);
  }

  private visible(arn: string): Slot[] {
    return (this.slots.get(arn) ?? []).filter((s) => s.visibleAt <= this.clock.t);
  }

  async readAfter(arn: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    this.reads++;
    return this.visible(arn)
      .filter((s) => s.seq > afterSeq)
      .slice(0, limit)
      .map((s) => ({ seq: s.seq, record: s.record }));
  }

  async headSeq(arn: string): Promise<number> {
    this.reads++;
    return this.visible(arn).at(-1)?.seq ?? -1;
  }
}

/** A sink that records what a response would have been. */
class RecordingSink implements ResponseSink {
  status: number | undefined;
  headers: Record<string, string> = {};
  readonly chunks: string[] = [];
  ended = false;
  opens = 0;

  open(status: number, headers: Record<string, string>): void {
    this.opens++;
    this.status = status;
    this.headers = headers;
  }
  async write(chunk: string): Promise<void> {
    if (this.status === undefined) throw new Error("write before open");
    if (this.ended) throw new Error("write after end");
    this.chunks.push(chunk);
  }
  async end(): Promise<void> {
    this.ended = true;
  }
  get body(): string {
    return this.chunks.join("");
  }
  json(): ResultRecord[] {
    return JSON.parse(this.body) as ResultRecord[];
  }
}

interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Splits an SSE body into its events (and comment lines). */
function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of body.split("\n\n")) {
    if (block === "") continue;
    const ev: SseEvent = {};
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) ev.comment = line.slice(1).trim();
      else if (line.startsWith("event: ")) ev.event = line.slice(7);
      else if (line.startsWith("id: ")) ev.id = line.slice(4);
      else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
    }
    if (data.length > 0) ev.data = data.join("\n");
    events.push(ev);
  }
  return events;
}

const controlOf = (ev: SseEvent) => JSON.parse(ev.data ?? "null") as Record<string, unknown>;

function config(over: Partial<StreamerConfig> = {}): StreamerConfig {
  return {
    tableName: "results",
    stateMachineArn: STATE_MACHINE_ARN,
    pollIntervalMs: 50,
    maxPollIntervalMs: 500,
    streamTimeoutMs: 360_000,
    heartbeatMs: 15_000,
    longPollMs: 20_000,
    pageSize: 200,
    deadlineMarginMs: 2000,
    finalResultField: "FinalResult",
    maxConnectionMs: 14 * 60_000,
    maxExecutionMs: 330_000,
    ...over,
  };
}

function request(over: {
  method?: "GET" | "HEAD";
  offset?: string;
  live?: LiveMode;
  cursor?: string;
  lastEventId?: string;
  ifNoneMatch?: string;
  arn?: string;
}): StreamRequest {
  return {
    method: over.method ?? "GET",
    executionArn: over.arn ?? ARN,
    position: over.offset === undefined ? undefined : parseReadPosition(over.offset),
    rawOffset: over.offset,
    live: over.live,
    cursor: over.cursor,
    lastEventId: over.lastEventId,
    ifNoneMatch: over.ifNoneMatch,
  };
}

/** A world: clock, table, config; `run` serves one request into a fresh recording sink. */
function world(cfgOver: Partial<StreamerConfig> = {}, opts: { stopAfterMs?: number } = {}) {
  const clock = fakeClock();
  const reader = new FakeReader(clock);
  const cfg = config(cfgOver);
  const stopAt = T0 + (opts.stopAfterMs ?? 14 * 60_000);
  return {
    clock,
    reader,
    cfg,
    /** Writes `n` result records and, with `end`, a terminal record. */
    seed(n: number, end?: RecordType) {
      for (let i = 0; i < n; i++) reader.append("result");
      if (end) reader.append(end);
    },
    async run(req: StreamRequest, signal?: AbortSignal) {
      const sink = new RecordingSink();
      const outcome = await serveDurable(req, cfg, reader, sink, stopAt, signal, {
        now: clock.now,
        sleep: clock.sleep,
        random: () => 0.5,
      });
      return { sink, outcome };
    },
  };
}

const currentCursor = (t: number) => String(Math.floor((t - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS));

// ---------------------------------------------------------------- catch-up

describe("catch-up reads (no live)", () => {
  it("returns a finished execution as one JSON array, closed and up to date", async () => {
    // Prepare
    const w = world();
    w.seed(4, "final");

    // Act
    const { sink, outcome } = await w.run(request({ offset: "-1" }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.ended).toBe(true);
    expect(sink.headers["content-type"]).toBe("application/json");
    expect(sink.json().map((r) => r.Offset)).toEqual([0, 1, 2, 3, 4].map(encodeOffset));
    expect(sink.json().at(-1)?.Type).toBe("final");
    expect(sink.headers["stream-next-offset"]).toBe("0000000000000004");
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBe("true");
    expect(sink.headers["stream-cursor"]).toBeUndefined();
    expect(sink.headers.etag).toBe('"-000000000000001:0000000000000004:c"');
    expect(sink.headers["cache-control"]).toBe("private, max-age=60, stale-while-revalidate=300");
    expect(sink.headers["x-content-type-options"]).toBe("nosniff");
    expect(outcome).toEqual({ delivered: 5, reason: "closed" });
  });

  it("returns a running execution up to date but open, with a cursor and no caching", async () => {
    // Prepare
    const w = world();
    w.seed(3);

    // Act
    const { sink } = await w.run(request({ offset: "-1" }));

    // Assess
    expect(sink.json()).toHaveLength(3);
    expect(sink.headers["stream-next-offset"]).toBe("0000000000000002");
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBeUndefined();
    expect(sink.headers["stream-cursor"]).toBe(currentCursor(T0));
    expect(sink.headers.etag).toBe('"-000000000000001:0000000000000002"');
    expect(sink.headers["cache-control"]).toBe("no-store");
  });

  it("returns only the records after the offset", async () => {
    // Prepare
    const w = world();
    w.seed(4, "final");

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(1) }));

    // Assess
    expect(sink.json().map((r) => r.Offset)).toEqual([2, 3, 4].map(encodeOffset));
    expect(sink.headers.etag).toBe('"0000000000000001:0000000000000004:c"');
  });

  it("answers an empty array with Stream-Closed at the tail of a closed stream (EOF)", async () => {
    // Prepare
    const w = world();
    w.seed(2, "error");

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(2) }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.body).toBe("[]");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBe("true");
  });

  it("answers an empty array, up to date and open, at the tail of a running execution", async () => {
    // Prepare
    const w = world();
    w.seed(2);

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(1) }));

    // Assess
    expect(sink.body).toBe("[]");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(1));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBeUndefined();
  });

  it("offset=now returns no records and the tail offset, without an ETag", async () => {
    // Prepare
    const w = world();
    w.seed(3);

    // Act
    const { sink } = await w.run(request({ offset: "now" }));

    // Assess
    expect(sink.body).toBe("[]");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBeUndefined();
    expect(sink.headers.etag).toBeUndefined();
    expect(sink.headers["cache-control"]).toBe("no-store");
  });

  it("offset=now on a finished execution says it is closed", async () => {
    // Prepare
    const w = world();
    w.seed(1, "final");

    // Act
    const { sink } = await w.run(request({ offset: "now" }));

    // Assess
    expect(sink.body).toBe("[]");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(1));
    expect(sink.headers["stream-closed"]).toBe("true");
  });

  it("splits a long log into chunks of pageSize; following Stream-Next-Offset reads each record once", async () => {
    // Prepare
    const w = world({ pageSize: 2 });
    w.seed(4, "final");
    const seen: string[] = [];
    const responses: Record<string, string>[] = [];

    // Act
    let offset = "-1";
    for (let i = 0; i < 10; i++) {
      const { sink } = await w.run(request({ offset }));
      seen.push(...sink.json().map((r) => r.Offset));
      responses.push(sink.headers);
      offset = sink.headers["stream-next-offset"] as string;
      if (sink.headers["stream-closed"] === "true") break;
    }

    // Assess
    expect(seen).toEqual([0, 1, 2, 3, 4].map(encodeOffset));
    expect(responses).toHaveLength(3);
    expect(responses[0]?.["stream-up-to-date"]).toBeUndefined();
    expect(responses[0]?.["stream-next-offset"]).toBe(encodeOffset(1));
    expect(responses[0]?.["cache-control"]).toBe("private, max-age=60, stale-while-revalidate=300");
    expect(responses[2]?.["stream-closed"]).toBe("true");
  });

  it("bounds a chunk by bytes, returning at least one record", async () => {
    // Prepare
    const w = world();
    const big = "x".repeat(300 * 1024);
    for (let i = 0; i < 5; i++) w.reader.append("result", { result: big });

    // Act
    const first = await w.run(request({ offset: "-1" }));

    // Assess
    expect(first.sink.body.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(first.sink.json()).toHaveLength(3);
    expect(first.sink.headers["stream-up-to-date"]).toBeUndefined();
    expect(first.sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
  });

  it("passes over expired records without returning them", async () => {
    // Prepare
    const w = world();
    w.reader.append("result");
    w.reader.appendExpired();
    w.reader.append("final");

    // Act
    const { sink } = await w.run(request({ offset: "-1" }));

    // Assess
    expect(sink.json().map((r) => r.Offset)).toEqual([encodeOffset(0), encodeOffset(2)]);
    expect(sink.headers["stream-closed"]).toBe("true");
  });

  it("is 404 NotFound for an execution with no records", async () => {
    // Prepare
    const w = world();

    // Act
    const run = w.run(request({ offset: "-1" }));

    // Assess
    await expect(run).rejects.toMatchObject({ name: "StepstreamError", code: "NotFound" });
  });

  it("is 404 NotFound for offset=now on an execution with no records", async () => {
    // Prepare
    const w = world();

    // Act
    const run = w.run(request({ offset: "now" }));

    // Assess
    await expect(run).rejects.toMatchObject({ code: "NotFound" });
  });
});

// ---------------------------------------------------------------- through serve(): status codes

describe("serve() routing and errors for Durable Streams reads", () => {
  const event = (query: string, method = "GET") => ({
    rawPath: "/",
    rawQueryString: query,
    headers: {},
    requestContext: { http: { method } },
  });
  const arnParam = `executionArn=${encodeURIComponent(ARN)}`;

  it("maps an execution with no records to 404 with a JSON error", async () => {
    // Prepare
    const clock = fakeClock();
    const reader = new FakeReader(clock);
    const sink = new RecordingSink();

    // Act
    const outcome = await serve(event(`${arnParam}&offset=-1`), config(), reader, sink, T0 + 60_000);

    // Assess
    expect(sink.status).toBe(404);
    expect(JSON.parse(sink.body)).toMatchObject({ error: { code: "NotFound" } });
    expect(outcome.status).toBe("rejected");
  });

  it("rejects a malformed offset with 400", async () => {
    // Prepare
    const reader = new FakeReader(fakeClock());
    const sink = new RecordingSink();

    // Act
    await serve(event(`${arnParam}&offset=12`), config(), reader, sink, T0 + 60_000);

    // Assess
    expect(sink.status).toBe(400);
    expect(JSON.parse(sink.body)).toMatchObject({ error: { code: "InvalidOffset" } });
  });

  it("serves a catch-up read end to end", async () => {
    // Prepare
    const clock = fakeClock();
    const reader = new FakeReader(clock);
    reader.append("result");
    reader.append("final");
    const sink = new RecordingSink();

    // Act
    const outcome = await serve(event(`${arnParam}&offset=-1`), config(), reader, sink, T0 + 60_000);

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.json()).toHaveLength(2);
    expect(outcome).toMatchObject({ status: "ok", mode: "catch-up", delivered: 2 });
  });
});

// ---------------------------------------------------------------- HEAD

describe("HEAD", () => {
  it("gives the tail offset and content type of a running execution, and no body", async () => {
    // Prepare
    const w = world();
    w.seed(3);

    // Act
    const { sink, outcome } = await w.run(request({ method: "HEAD", offset: "-1" }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.chunks).toEqual([]);
    expect(sink.ended).toBe(true);
    expect(sink.headers["content-type"]).toBe("application/json");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-closed"]).toBeUndefined();
    expect(sink.headers["cache-control"]).toBe("no-store");
    expect(outcome.reason).toBe("head");
  });

  it("says Stream-Closed once the terminal record is stored", async () => {
    // Prepare
    const w = world();
    w.seed(2, "timeout");

    // Act
    const { sink } = await w.run(request({ method: "HEAD", offset: "-1", live: "sse" }));

    // Assess
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-closed"]).toBe("true");
    expect(sink.chunks).toEqual([]);
  });

  it("is 404 NotFound for an execution with no records", async () => {
    // Prepare
    const w = world();

    // Act
    const run = w.run(request({ method: "HEAD", offset: "-1" }));

    // Assess
    await expect(run).rejects.toMatchObject({ code: "NotFound" });
  });
});

// ---------------------------------------------------------------- long-poll

describe("live=long-poll", () => {
  it("returns records that are already there at once, with a cursor", async () => {
    // Prepare
    const w = world();
    w.seed(3);

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(0), live: "long-poll" }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.json().map((r) => r.Offset)).toEqual([1, 2].map(encodeOffset));
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-cursor"]).toBe(currentCursor(T0));
    expect(w.clock.sleeps).toEqual([]);
  });

  it("waits for the next record and returns it as soon as it is readable", async () => {
    // Prepare
    const w = world();
    w.seed(2);
    w.reader.append("result", { at: T0 + 3_000 });
    w.reader.append("final", { at: T0 + 60_000 });

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(1), live: "long-poll" }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.json().map((r) => r.Offset)).toEqual([encodeOffset(2)]);
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(2));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-closed"]).toBeUndefined();
    expect(w.clock.t - T0).toBeGreaterThanOrEqual(3_000);
    expect(w.clock.t - T0).toBeLessThan(3_000 + 500 + 1);
  });

  it("answers 204 with the tail offset, up to date, after longPollMs with nothing new", async () => {
    // Prepare
    const w = world({ longPollMs: 20_000 });
    w.seed(2);

    // Act
    const { sink, outcome } = await w.run(request({ offset: encodeOffset(1), live: "long-poll" }));

    // Assess
    expect(sink.status).toBe(204);
    expect(sink.chunks).toEqual([]);
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(1));
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-cursor"]).toMatch(/^\d+$/);
    expect(sink.headers["stream-closed"]).toBeUndefined();
    expect(w.clock.t - T0).toBe(20_000);
    expect(outcome.delivered).toBe(0);
  });

  it("answers 204 with Stream-Closed at once at the tail of a closed stream", async () => {
    // Prepare
    const w = world();
    w.seed(4, "final");

    // Act
    const { sink, outcome } = await w.run(request({ offset: encodeOffset(4), live: "long-poll" }));

    // Assess
    expect(sink.status).toBe(204);
    expect(sink.headers["stream-closed"]).toBe("true");
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(4));
    expect(sink.headers["stream-cursor"]).toBeUndefined();
    expect(w.clock.sleeps).toEqual([]);
    expect(outcome.reason).toBe("closed");
  });

  it("returns the terminal record with Stream-Closed", async () => {
    // Prepare
    const w = world();
    w.seed(2);
    w.reader.append("final", { at: T0 + 1_000 });

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(1), live: "long-poll" }));

    // Assess
    expect(sink.json().map((r) => r.Type)).toEqual(["final"]);
    expect(sink.headers["stream-closed"]).toBe("true");
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-cursor"]).toBeUndefined();
  });

  it("waits (no 404) on an execution with no records yet, then returns its first record", async () => {
    // Prepare
    const w = world();
    w.reader.append("result", { at: T0 + 5_000, arn: STARTED });

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "long-poll", arn: STARTED }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.json().map((r) => r.Offset)).toEqual([encodeOffset(0)]);
  });

  it("answers 204 for an execution with no records when longPollMs passes", async () => {
    // Prepare
    const w = world({ longPollMs: 10_000 });

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "long-poll", arn: STARTED }));

    // Assess
    expect(sink.status).toBe(204);
    expect(sink.headers["stream-up-to-date"]).toBe("true");
    expect(sink.headers["stream-next-offset"]).toBe("-000000000000001");
  });

  it("offset=now waits for records written after the request only", async () => {
    // Prepare
    const w = world();
    w.seed(3);
    w.reader.append("result", { at: T0 + 2_000 });

    // Act
    const { sink } = await w.run(request({ offset: "now", live: "long-poll" }));

    // Assess
    expect(sink.json().map((r) => r.Offset)).toEqual([encodeOffset(3)]);
  });

  it("never moves the cursor backwards: an echoed cursor at or past now gets a larger one", async () => {
    // Prepare
    const w = world();
    w.seed(1);
    const ahead = String(Number(currentCursor(T0)) + 5);

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "long-poll", cursor: ahead }));

    // Assess
    // random() = 0.5 → 1 + 1800 s of jitter → 91 intervals of 20 s
    expect(Number(sink.headers["stream-cursor"])).toBe(Number(ahead) + 91);
  });

  it("ends with a synthetic timeout record and Stream-Closed when the last record is older than streamTimeoutMs", async () => {
    // Prepare
    const w = world({ streamTimeoutMs: 60_000 });
    w.reader.append("result", { at: T0 - 120_000 });

    // Act
    const { sink } = await w.run(request({ offset: encodeOffset(0), live: "long-poll" }));

    // Assess
    const [record] = sink.json();
    expect(sink.status).toBe(200);
    expect(sink.json()).toHaveLength(1);
    expect(record).toMatchObject({ Type: "timeout", Synthetic: true, Error: { Error: "StreamTimeout" } });
    expect(record?.Error?.Cause).toContain("within 120 s");
    expect(sink.headers["stream-closed"]).toBe("true");
    expect(sink.headers["stream-next-offset"]).toBe(encodeOffset(0));
    expect(w.clock.t - T0).toBeLessThan(1_000);
  });

  it("answers 204 when the Lambda deadline comes before longPollMs", async () => {
    // Prepare
    const w = world({ longPollMs: 20_000 }, { stopAfterMs: 5_000 });
    w.seed(1);

    // Act
    const { sink, outcome } = await w.run(request({ offset: encodeOffset(0), live: "long-poll" }));

    // Assess
    expect(sink.status).toBe(204);
    expect(w.clock.t - T0).toBe(5_000);
    expect(outcome.reason).toBe("deadline");
  });
});

// ---------------------------------------------------------------- SSE

describe("live=sse", () => {
  it("streams data and control events until the terminal record, then closes", async () => {
    // Prepare
    const w = world();
    w.seed(2);
    w.reader.append("result", { at: T0 + 1_000 });
    w.reader.append("final", { at: T0 + 2_000 });

    // Act
    const { sink, outcome } = await w.run(request({ offset: "-1", live: "sse" }));

    // Assess
    expect(sink.status).toBe(200);
    expect(sink.headers["content-type"]).toBe("text/event-stream");
    expect(sink.headers["cache-control"]).toBe("no-cache, no-store");
    expect(sink.ended).toBe(true);
    const events = parseSse(sink.body);
    // §5.8: the control event paired with the data event that reaches the tail says upToDate.
    expect(events.map((e) => e.event)).toEqual(["data", "control", "data", "control", "data", "control"]);
    const data = events
      .filter((e) => e.event === "data")
      .map((e) => JSON.parse(e.data ?? "") as ResultRecord[]);
    expect(data.flat().map((r) => r.Offset)).toEqual([0, 1, 2, 3].map(encodeOffset));
    expect(controlOf(events[1] as SseEvent)).toEqual({
      streamNextOffset: encodeOffset(1),
      streamCursor: currentCursor(T0),
      upToDate: true,
    });
    expect(controlOf(events[3] as SseEvent)).toMatchObject({
      streamNextOffset: encodeOffset(2),
      upToDate: true,
    });
    expect(controlOf(events[5] as SseEvent)).toEqual({
      streamNextOffset: encodeOffset(3),
      streamClosed: true,
      upToDate: true,
    });
    expect(events.map((e) => e.id)).toEqual([1, 1, 2, 2, 3, 3].map(encodeOffset));
    expect(outcome).toEqual({ delivered: 4, reason: "terminal" });
  });

  it("frames a batch as a JSON array over several data: lines", async () => {
    // Prepare
    const w = world();
    w.seed(1, "final");

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "sse" }));

    // Assess
    const lines = sink.body.split("\n");
    expect(lines.slice(0, 6)).toEqual([
      "event: data",
      "data: [",
      expect.stringMatching(/^data: \{"ExecutionArn".*\},$/),
      expect.stringMatching(/^data: \{.*"Type":"final".*\}$/),
      "data: ]",
      `id: ${encodeOffset(1)}`,
    ]);
    // The control event is `event: control` then `data:` (the conformance suite's parser), `id:` last.
    expect(lines.slice(7, 10)).toEqual([
      "event: control",
      expect.stringMatching(/^data:\{/),
      `id: ${encodeOffset(1)}`,
    ]);
  });

  it("resumes from Last-Event-ID rather than the offset parameter", async () => {
    // Prepare
    const w = world();
    w.seed(4, "final");

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "sse", lastEventId: encodeOffset(2) }));

    // Assess
    const data = parseSse(sink.body).filter((e) => e.event === "data");
    expect(data.flatMap((e) => (JSON.parse(e.data ?? "") as ResultRecord[]).map((r) => r.Offset))).toEqual(
      [3, 4].map(encodeOffset),
    );
  });

  it("at the tail of a closed stream sends one closed control event and ends", async () => {
    // Prepare
    const w = world();
    w.seed(1, "error");

    // Act
    const { sink, outcome } = await w.run(request({ offset: encodeOffset(1), live: "sse" }));

    // Assess
    const events = parseSse(sink.body);
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBe("control");
    expect(controlOf(events[0] as SseEvent)).toEqual({
      streamNextOffset: encodeOffset(1),
      streamClosed: true,
      upToDate: true,
    });
    expect(sink.ended).toBe(true);
    expect(outcome.reason).toBe("closed");
  });

  it("offset=now starts with a control event giving the tail offset, up to date", async () => {
    // Prepare
    const w = world();
    w.seed(3);
    w.reader.append("final", { at: T0 + 1_000 });

    // Act
    const { sink } = await w.run(request({ offset: "now", live: "sse" }));

    // Assess
    const events = parseSse(sink.body);
    expect(events[0]?.event).toBe("control");
    expect(controlOf(events[0] as SseEvent)).toMatchObject({
      streamNextOffset: encodeOffset(2),
      upToDate: true,
    });
    const data = events.filter((e) => e.event === "data");
    expect(data.flatMap((e) => (JSON.parse(e.data ?? "") as ResultRecord[]).map((r) => r.Type))).toEqual([
      "final",
    ]);
  });

  it("writes a heartbeat comment for every heartbeatMs of silence", async () => {
    // Prepare
    const w = world({ heartbeatMs: 10_000 });
    w.seed(1);
    w.reader.append("final", { at: T0 + 35_000 });

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "sse" }));

    // Assess
    const events = parseSse(sink.body);
    const heartbeats = events.filter((e) => e.comment === "keep-alive");
    expect(heartbeats).toHaveLength(3);
    expect(events.at(-1)?.event).toBe("control");
    expect(controlOf(events.at(-1) as SseEvent)).toMatchObject({ streamClosed: true });
  });

  it("closes cleanly before the deadline with a final control event giving the next offset", async () => {
    // Prepare
    const w = world({}, { stopAfterMs: 30_000 });
    w.seed(2);

    // Act
    const { sink, outcome } = await w.run(request({ offset: "-1", live: "sse" }));

    // Assess
    const events = parseSse(sink.body);
    const last = events.at(-1) as SseEvent;
    expect(last.event).toBe("control");
    expect(controlOf(last)).toEqual({
      streamNextOffset: encodeOffset(1),
      streamCursor: currentCursor(T0 + 30_000),
      upToDate: true,
    });
    expect(last.id).toBe(encodeOffset(1));
    expect(events.some((e) => e.data?.includes("streamClosed"))).toBe(false);
    expect(sink.ended).toBe(true);
    expect(w.clock.t).toBe(T0 + 30_000);
    expect(outcome.reason).toBe("deadline");
  });

  it("waits (no 404) on an execution with no records, sending up to date at offset -1", async () => {
    // Prepare
    const w = world();
    w.reader.append("result", { at: T0 + 1_000, arn: STARTED });
    w.reader.append("final", { at: T0 + 2_000, arn: STARTED });

    // Act
    const { sink } = await w.run(request({ offset: "-1", live: "sse", arn: STARTED }));

    // Assess
    const events = parseSse(sink.body);
    expect(controlOf(events[0] as SseEvent)).toMatchObject({
      streamNextOffset: "-000000000000001",
      upToDate: true,
    });
    expect(events.filter((e) => e.event === "data")).toHaveLength(2);
  });

  it("ends an execution that writes nothing with a synthetic timeout record and streamClosed", async () => {
    // Prepare
    const w = world({ streamTimeoutMs: 5_000 });

    // Act
    const { sink, outcome } = await w.run(request({ offset: "-1", live: "sse", arn: STARTED }));

    // Assess
    const events = parseSse(sink.body);
    const data = events.filter((e) => e.event === "data");
    expect(data).toHaveLength(1);
    // Its offset is the start position: a resume from it skips nothing.
    expect(JSON.parse(data[0]?.data ?? "")).toMatchObject([
      { Type: "timeout", Synthetic: true, Offset: "-000000000000001" },
    ]);
    expect(controlOf(events.at(-1) as SseEvent)).toMatchObject({ streamClosed: true });
    expect(w.clock.t - T0).toBe(5_000);
    expect(outcome.reason).toBe("timeout");
  });

  it("stops when the client goes away", async () => {
    // Prepare
    const w = world();
    w.seed(1);
    const gone = new AbortController();
    const sleep = w.clock.sleep;
    w.clock.sleep = async (ms: number) => {
      await sleep(ms);
      if (w.clock.t - T0 > 2_000) gone.abort();
    };

    // Act
    const { sink, outcome } = await w.run(request({ offset: "-1", live: "sse" }), gone.signal);

    // Assess
    expect(outcome.reason).toBe("aborted");
    expect(sink.ended).toBe(true);
  });
});
