import { setMaxListeners } from "node:events";
import { diffSnapshot, emptyTally } from "../capacity.js";
import { UNTAGGED } from "../door.js";
import { executionArnFor, progress, progressDone, Reader, sleep, Writer, waitFor } from "../harness.js";
import type { BaselineProcess, StackProcess } from "../processes.js";

export interface IdleOptions {
  /** How many records each execution has already delivered when it goes quiet. */
  deliveredLevels: number[];
  /** Streams per reader and level. */
  streamsPerLevel: number;
  /** After the last delivery, wait this long before measuring (our back-off reaches its ceiling). */
  settleMs: number;
  /** Length of the measured quiet window. */
  windowMs: number;
}

export interface IdleLevel {
  delivered: number;
  streams: number;
  queries: number;
  streamSeconds: number;
  queriesPerStreamSecond: number;
  readUnitsPerPoll: number;
  readUnitsPerStreamSecond: number;
}

export interface IdleReader {
  /** Queries per open stream per second while nothing new is written (all levels together). */
  idleQueriesPerStreamSecond: number;
  /** Read units per stream per second while idle (all levels together). */
  idleReadUnitsPerStreamSecond: number;
  levels: IdleLevel[];
}

export interface IdleResult {
  ours: IdleReader;
  baseline: IdleReader;
  windowMs: number;
}

const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Idle cost: executions that have delivered `D` records and then go quiet (a long step). Both readers
 * keep their streams open; the window after they settle counts the Queries each sends and the read
 * units those cost, per open stream and second — and per poll, against `D`, to show whether a poll's
 * cost grows with what was already delivered.
 */
export async function runIdle(
  stack: StackProcess,
  baseline: BaselineProcess,
  o: IdleOptions,
): Promise<IdleResult> {
  const seeder = new Writer(stack.info, "seed");
  const writer = new Writer(stack.info);
  const ours = new Reader("ours", stack.info.streamUrl, stack.info, { sign: true });
  const base = new Reader("baseline", baseline.url, stack.info, { sign: false });
  const levels = o.deliveredLevels.map((d) => ({
    d,
    group: `idle-d${d}`,
    arns: Array.from({ length: o.streamsPerLevel }, (_, i) => executionArnFor(stack.info, `idle-d${d}`, i)),
  }));
  try {
    progress("idle: seeding");
    for (const l of levels) for (const arn of l.arns) await seeder.seed(arn, l.d, { final: false });
    const counts = new Map<string, number>();
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const count = (who: string, arn: string) => () =>
      counts.set(`${who}|${arn}`, (counts.get(`${who}|${arn}`) ?? 0) + 1);
    const reading = Promise.all(
      levels.flatMap((l) =>
        l.arns.flatMap((arn) => [
          ours.consume(arn, stop.signal, count("ours", arn)),
          base.consume(arn, stop.signal, count("baseline", arn)),
        ]),
      ),
    );
    const expected = levels.reduce((n, l) => n + l.d * l.arns.length, 0) * 2;
    const delivered = () => [...counts.values()].reduce((a, b) => a + b, 0);
    const caughtUp = await waitFor(() => delivered() >= expected, 60_000);
    if (!caughtUp)
      throw new Error(`idle: readers delivered ${delivered()} of ${expected} seeded records within 60 s`);
    progress(`idle: caught up; settling ${o.settleMs} ms, then measuring ${o.windowMs} ms`);
    await sleep(o.settleMs);
    const a = await stack.snapshot();
    await sleep(o.windowMs);
    const b = await stack.snapshot();
    // End every stream with its final record.
    for (const l of levels) for (const arn of l.arns) await writer.write(arn, l.d, l.d + 1);
    const done = await waitFor(
      () => ours.results.length + base.results.length === levels.length * o.streamsPerLevel * 2,
      30_000,
    );
    if (!done) stop.abort();
    await reading;
    const d = diffSnapshot(b.ledger, a.ledger);
    const seconds = (b.at - a.at) / 1000;
    const readerFigures = (tag: string): IdleReader => {
      let queries = 0;
      let units = 0;
      let streamSeconds = 0;
      const perLevel = levels.map((l) => {
        const t = d.byGroup[tag]?.[l.group] ?? emptyTally();
        const q = t.ops.Query ?? 0;
        const ss = l.arns.length * seconds;
        queries += q;
        units += t.readUnits;
        streamSeconds += ss;
        return {
          delivered: l.d,
          streams: l.arns.length,
          queries: q,
          streamSeconds: round(ss, 1),
          queriesPerStreamSecond: round(q / ss),
          readUnitsPerPoll: q ? round(t.readUnits / q) : Number.NaN,
          readUnitsPerStreamSecond: round(t.readUnits / ss),
        };
      });
      return {
        idleQueriesPerStreamSecond: round(queries / streamSeconds),
        idleReadUnitsPerStreamSecond: round(units / streamSeconds),
        levels: perLevel,
      };
    };
    return {
      ours: readerFigures(UNTAGGED),
      baseline: readerFigures("baseline"),
      windowMs: Math.round(seconds * 1000),
    };
  } finally {
    progressDone();
    seeder.close();
    writer.close();
  }
}
