import { setMaxListeners } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { diffSnapshot, emptyTally, type Tally } from "../capacity.js";
import { UNTAGGED } from "../door.js";
import {
  executionArnFor,
  latencies,
  now,
  pool,
  progress,
  progressDone,
  Reader,
  type StreamResult,
  sleep,
  Writer,
  waitFor,
} from "../harness.js";
import type { BaselineProcess, StackProcess } from "../processes.js";
import { type LatencySummary, median, seededRandom, summarize, uniformInt } from "../stats.js";

export interface LatencyOptions {
  executions: number;
  recordsPerExecution: number;
  minGapMs: number;
  maxGapMs: number;
  seed: number;
  /** Execution group name (per-group accounting). */
  group: string;
  /** Executions running at once. */
  concurrency: number;
  /** Between opening an execution's streams and the start of its first step (the run's start-up). */
  firstStepDelayMs: number;
  /** Give up on streams that have not ended this long after the last write. */
  drainTimeoutMs: number;
}

/** Reads, read units and writes a reader spent per record it delivered. */
export interface CostPerRecord {
  readsPerRecord: number;
  readUnitsPerRecord: number;
  writesPerRecord: number;
  writeUnitsPerRecord: number;
}

export interface ReaderLatency {
  latencyMs: LatencySummary;
  /** Raw latencies, for the CDF. */
  values: number[];
  delivered: number;
  missing: number;
  duplicates: number;
  errors: number;
  reconnects: number;
  /** Records parsed before their write's acknowledgement (clock skew; counted as 0 ms). */
  early: number;
  /** Records timed from DynamoDB's acknowledgement at the front door (the rest from `putResult` resolving). */
  timedFromAck: number;
  /** Median time from the acknowledgement to `putResult` resolving in the writer, ms. */
  writerLagMs: number;
  cost: CostPerRecord;
  /** Requests this reader sent, by operation. */
  ops: Record<string, number>;
  /**
   * Ours only (from the emulator's front door): where a record's latency went, p50/p99 ms — from the
   * write's acknowledgement to the arrival of the streamer's Query that returned it (`pollWait`: the
   * poll interval, plus any wait for the stack's event loop), that Query's time in the emulator
   * (`query`), and from its answer to the client's parse (`delivery`: the streamer, the Function
   * URL's response stream, the harness's client).
   */
  breakdownMs?: Record<"pollWait" | "query" | "delivery", { p50: number; p99: number }>;
}

export interface LatencyResult {
  ours: ReaderLatency;
  baseline: ReaderLatency;
  /** The shipped writer (`putResult`), per record written. */
  writer: CostPerRecord & { records: number; errors: number; ops: Record<string, number> };
  /** Requests the stack counted at the emulator's door in the window vs the sum the ledger attributed. */
  frontDoor: { stackCounted: number; ledgerAttributed: number; ledgerFailures: number };
  /**
   * The stack process over the scenario: CPU (% of one core) and DynamoDB requests per second; and
   * the emulator's CPU when it runs in its own process (`null` when it shares the stack's).
   */
  stack: {
    cpuPercent: number;
    requestsPerSecond: number;
    emulatorCpuPercent: number | null;
    /** The harness's own process (the writers and both readers' clients), % of one core. */
    harnessCpuPercent: number;
    /** The harness's event-loop delay over the scenario, ms: how late it could stamp a parsed line. */
    harnessLoopDelayMs: { p50: number; p99: number };
    /** Event-loop delay over the scenario, ms: the stack's, and the emulator's when apart. */
    loopDelayMs?: { p50: number; p99: number };
    emulatorLoopDelayMs?: { p50: number; p99: number };
    /** Share of the scenario each process's main thread spent runnable but waiting for a CPU, % (Linux). */
    runQueueWaitPercent?: { stack: number; emulator: number | null };
  };
  durationMs: number;
}

const WRITE_OPS = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"];
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
/** `micros` of `ms`, as a whole percentage. */
const pctOf = (micros: number, ms: number) => Math.round((micros / 1e3 / ms) * 100);

export function costPerRecord(t: Tally, records: number): CostPerRecord {
  const writes = WRITE_OPS.reduce((n, op) => n + (t.ops[op] ?? 0), 0);
  const per = (x: number) => (records > 0 ? round(x / records) : Number.NaN);
  return {
    readsPerRecord: per((t.ops.Query ?? 0) + (t.ops.GetItem ?? 0)),
    readUnitsPerRecord: per(t.readUnits),
    writesPerRecord: per(writes),
    writeUnitsPerRecord: per(t.writeUnits),
  };
}

/** Where our records' latency went, from the times the front door noted (see `breakdownMs`). */
function breakdown(reader: Reader, acks: Map<string, number>): ReaderLatency["breakdownMs"] {
  const poll: number[] = [];
  const query: number[] = [];
  const delivery: number[] = [];
  for (const [key, parsed] of reader.parsedAt) {
    const ack = acks.get(key);
    const q = acks.get(`q|${key}`);
    const r = acks.get(`r|${key}`);
    if (ack === undefined || q === undefined || r === undefined) continue;
    poll.push(Math.max(0, q - ack));
    query.push(r - q);
    delivery.push(parsed - r);
  }
  if (poll.length === 0) return undefined;
  const pp = (xs: number[]) => {
    const s = summarize(xs);
    return { p50: s.p50, p99: s.p99 };
  };
  return { pollWait: pp(poll), query: pp(query), delivery: pp(delivery) };
}

function figures(reader: Reader, writer: Writer, tally: Tally, acks: Map<string, number>): ReaderLatency {
  const l = latencies(writer, reader, acks);
  const sum = (f: (r: StreamResult) => number) => reader.results.reduce((n, r) => n + f(r), 0);
  const delivered = l.values.length;
  const parts = reader.name === "ours" ? breakdown(reader, acks) : undefined;
  return {
    ...(parts ? { breakdownMs: parts } : {}),
    latencyMs: summarize(l.values),
    values: l.values,
    delivered,
    missing: l.missing,
    duplicates: sum((r) => r.duplicates),
    errors: sum((r) => (r.error ? 1 : 0)),
    reconnects: sum((r) => r.reconnects),
    early: l.early,
    timedFromAck: l.fromAcks,
    writerLagMs: round(median(l.writerLagMs), 2),
    cost: costPerRecord(tally, delivered),
    ops: tally.ops,
  };
}

/**
 * Latency and active-streaming cost, both readers at once on the same executions: every execution is
 * read by our streamer (through the stack's Function URL) and by the sample's reader, while one
 * writer per execution appends its records with `putResult` at seeded random intervals.
 */
export async function runLatency(
  stack: StackProcess,
  baseline: BaselineProcess,
  o: LatencyOptions,
): Promise<LatencyResult> {
  const started = now();
  const random = seededRandom(o.seed);
  const arns = Array.from({ length: o.executions }, (_, i) => executionArnFor(stack.info, o.group, i));
  const gaps = arns.map(() =>
    Array.from({ length: o.recordsPerExecution }, () => uniformInt(random, o.minGapMs, o.maxGapMs)),
  );
  const writer = new Writer(stack.info);
  const ours = new Reader("ours", stack.info.streamUrl, stack.info, { sign: true });
  const base = new Reader("baseline", baseline.url, stack.info, { sign: false });
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);

  const before = await stack.snapshot();
  const harnessBefore = process.cpuUsage();
  const harnessLoop = monitorEventLoopDelay({ resolution: 5 });
  harnessLoop.enable();
  const reading: Promise<unknown>[] = [];
  const total = o.executions * o.recordsPerExecution;
  const ticker = setInterval(
    () =>
      progress(
        `latency (${o.concurrency} at a time): ${writer.writtenAt.size}/${total} written, ours ${ours.parsedAt.size}, baseline ${base.parsedAt.size} parsed`,
      ),
    1000,
  );
  try {
    // At most `concurrency` executions run at once; a new one starts as soon as one has written its
    // last record. Each is streamed by both readers from its start, as a client would.
    await pool(arns, o.concurrency, async (arn, i) => {
      reading.push(ours.consume(arn, stop.signal), base.consume(arn, stop.signal));
      await sleep(o.firstStepDelayMs);
      for (let k = 0; k < o.recordsPerExecution; k++) {
        await sleep(gaps[i]?.[k] ?? o.minGapMs);
        await writer.write(arn, k, o.recordsPerExecution);
      }
    });
    const drained = await waitFor(
      () => ours.results.length + base.results.length === 2 * o.executions,
      o.drainTimeoutMs,
    );
    if (!drained) stop.abort();
    await Promise.all(reading);
  } finally {
    clearInterval(ticker);
    progressDone();
    writer.close();
  }
  const harnessCpu = process.cpuUsage(harnessBefore);
  harnessLoop.disable();
  const after = await stack.snapshot();
  const acks = await stack.acks(o.group);
  const d = diffSnapshot(after.ledger, before.ledger);
  const tallyOf = (tag: string) => d.byGroup[tag]?.[o.group] ?? emptyTally();
  const writerTally = d.byTag.writer ?? emptyTally();
  const stackCounted =
    Object.values(after.counts).reduce((a, b) => a + b, 0) -
    Object.values(before.counts).reduce((a, b) => a + b, 0);
  const ledgerAttributed = Object.values(d.byTag).reduce(
    (n, t) => n + Object.values(t.ops).reduce((a, b) => a + b, 0),
    0,
  );
  return {
    ours: figures(ours, writer, tallyOf(UNTAGGED), acks),
    baseline: figures(base, writer, tallyOf("baseline"), acks),
    writer: {
      ...costPerRecord(writerTally, writer.writtenAt.size),
      records: writer.writtenAt.size,
      errors: writer.errors,
      ops: writerTally.ops,
    },
    frontDoor: { stackCounted, ledgerAttributed, ledgerFailures: after.ledgerFailures },
    stack: {
      cpuPercent: Math.round(((after.cpuMicros - before.cpuMicros) / 1e3 / (after.at - before.at)) * 100),
      requestsPerSecond: Math.round((stackCounted / (after.at - before.at)) * 1000),
      emulatorCpuPercent:
        after.emulator && before.emulator
          ? Math.round(
              ((after.emulator.cpuMicros - before.emulator.cpuMicros) / 1e3 / (after.at - before.at)) * 100,
            )
          : null,
      harnessCpuPercent: Math.round(
        ((harnessCpu.user + harnessCpu.system) / 1e3 / (after.at - before.at)) * 100,
      ),
      harnessLoopDelayMs: {
        p50: Math.round(harnessLoop.percentile(50) / 1e4) / 100,
        p99: Math.round(harnessLoop.percentile(99) / 1e4) / 100,
      },
      ...(after.loopDelayMs ? { loopDelayMs: after.loopDelayMs } : {}),
      ...(after.emulator?.loopDelayMs ? { emulatorLoopDelayMs: after.emulator.loopDelayMs } : {}),
      ...(after.runQueueWaitMicros !== undefined && before.runQueueWaitMicros !== undefined
        ? {
            runQueueWaitPercent: {
              stack: pctOf(after.runQueueWaitMicros - before.runQueueWaitMicros, after.at - before.at),
              emulator:
                after.emulator?.runQueueWaitMicros !== undefined &&
                before.emulator?.runQueueWaitMicros !== undefined
                  ? pctOf(
                      after.emulator.runQueueWaitMicros - before.emulator.runQueueWaitMicros,
                      after.at - before.at,
                    )
                  : null,
            },
          }
        : {}),
    },
    durationMs: Math.round(now() - started),
  };
}
