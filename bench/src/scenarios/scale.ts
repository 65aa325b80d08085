import { setMaxListeners } from "node:events";
import {
  executionArnFor,
  latencies,
  now,
  pool,
  progress,
  progressDone,
  Reader,
  sleep,
  Writer,
  waitFor,
} from "../harness.js";
import type { StackProcess } from "../processes.js";
import { summarize } from "../stats.js";

export interface ScaleOptions {
  levels: number[];
  /** Records per execution (the last is final). */
  recordsPerExecution: number;
  /** Gap between an execution's records. */
  gapMs: number;
  /** All streams open and idle this long before the writes start. */
  holdMs: number;
  /** Writes in flight at once. */
  writeConcurrency: number;
  /** A level fails if its streams have not all ended this long after the last write. */
  drainTimeoutMs: number;
}

export interface ScaleLevel {
  streams: number;
  ok: boolean;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  errors: number;
  reconnects: number;
  /** Stack RSS with every stream open and idle, MiB. */
  rssMiB: number;
  /** Highest stack RSS sampled during the level, MiB. */
  peakRssMiB: number;
  /** Stack CPU over the level, % of one core. */
  cpuPercent: number;
  /** Stack CPU with every stream open and idle (the hold), % of one core. */
  idleCpuPercent: number;
  /** DynamoDB Queries per second the stack served over the level. */
  queriesPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  durationS: number;
  firstError?: string;
}

export interface ScaleResult {
  /** The largest level with zero errors and every record delivered (0 if none). */
  maxStreams: number;
  levels: ScaleLevel[];
}

const mib = (b: number) => Math.round(b / 1048576);

/**
 * Scale: `N` concurrent open streams on one stack, for N ramped up level by level. Every stream
 * follows its own execution, which writes its records while all N streams are open. A level passes
 * with zero errors and every record delivered exactly once; the ramp stops at the first level that
 * does not.
 */
export async function runScale(stack: StackProcess, o: ScaleOptions): Promise<ScaleResult> {
  const levels: ScaleLevel[] = [];
  let maxStreams = 0;
  for (const n of o.levels) {
    const t0 = now();
    const arns = Array.from({ length: n }, (_, i) => executionArnFor(stack.info, `scale-${n}`, i));
    const writer = new Writer(stack.info);
    const reader = new Reader(`scale-${n}`, stack.info.streamUrl, stack.info, { sign: true });
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    stack.startSampling();
    const a = await stack.snapshot();
    const reading = Promise.all(arns.map((arn) => reader.consume(arn, stop.signal)));
    const ticker = setInterval(
      () =>
        progress(
          `scale ${n}: ${writer.writtenAt.size}/${n * o.recordsPerExecution} written, ${reader.parsedAt.size} delivered, ${reader.results.length}/${n} ended`,
        ),
      1000,
    );
    let drained = false;
    let hold = a;
    try {
      await stack.profile(`scale-${n}`, async () => {
        await sleep(o.holdMs);
        hold = await stack.snapshot();
        for (let k = 0; k < o.recordsPerExecution; k++) {
          const roundStart = now();
          await pool(arns, o.writeConcurrency, async (arn) => {
            await writer.write(arn, k, o.recordsPerExecution).catch(() => undefined);
          });
          const left = o.gapMs - (now() - roundStart);
          if (left > 0 && k < o.recordsPerExecution - 1) await sleep(left);
        }
        drained = await waitFor(() => reader.results.length === n, o.drainTimeoutMs, 100);
        if (!drained) stop.abort();
        await reading;
      });
    } finally {
      clearInterval(ticker);
      progressDone();
      writer.close();
    }
    const b = await stack.snapshot();
    const peak = stack.stopSampling();
    const l = latencies(writer, reader, await stack.acks(`scale-${n}`));
    const lat = summarize(l.values);
    const expected = n * o.recordsPerExecution;
    const errors = reader.results.filter((r) => r.error).length + writer.errors;
    const duplicates = reader.results.reduce((s, r) => s + r.duplicates, 0);
    const secs = (b.at - a.at) / 1000;
    const holdSecs = (hold.at - a.at) / 1000;
    const level: ScaleLevel = {
      streams: n,
      ok: drained && errors === 0 && l.missing === 0 && duplicates === 0 && l.values.length === expected,
      expected,
      delivered: l.values.length,
      missing: l.missing + (expected - writer.writtenAt.size),
      duplicates,
      errors,
      reconnects: reader.results.reduce((s, r) => s + r.reconnects, 0),
      rssMiB: mib(hold.rssBytes),
      peakRssMiB: mib(Math.max(peak, b.rssBytes, hold.rssBytes)),
      cpuPercent: Math.round(((b.cpuMicros - a.cpuMicros) / 1e6 / secs) * 100),
      idleCpuPercent: holdSecs > 0 ? Math.round(((hold.cpuMicros - a.cpuMicros) / 1e6 / holdSecs) * 100) : 0,
      queriesPerSecond: Math.round(((b.counts.Query ?? 0) - (a.counts.Query ?? 0)) / secs),
      latencyP50Ms: lat.p50,
      latencyP99Ms: lat.p99,
      durationS: Math.round((now() - t0) / 100) / 10,
    };
    const firstError = reader.results.find((r) => r.error)?.error;
    if (firstError) level.firstError = firstError.slice(0, 300);
    levels.push(level);
    progress(
      `scale ${n}: ${level.ok ? "ok" : "FAILED"}, rss ${level.rssMiB} MiB (peak ${level.peakRssMiB}), cpu ${level.cpuPercent} %, p50 ${lat.p50} ms`,
    );
    process.stderr.write("\n");
    if (!level.ok) break;
    maxStreams = n;
    // Let closed connections drain before the next level.
    await sleep(500);
  }
  return { maxStreams, levels };
}
