import { executionArnFor, now, progress, progressDone, Reader, Writer } from "../harness.js";
import type { StackProcess } from "../processes.js";
import { median } from "../stats.js";

export interface ReplayOptions {
  records: number;
  runs: number;
}

export interface ReplayRun {
  seconds: number;
  recordsPerSecond: number;
  /** CPU the stack process used during the run, % of one core. */
  stackCpuPercent: number;
  /** CPU this process (the client) used during the run, % of one core. */
  clientCpuPercent: number;
  queries: number;
}

export interface ReplayResult {
  records: number;
  /** Median over the runs. */
  recordsPerSecond: number;
  runs: ReplayRun[];
}

/**
 * Replay: one finished execution of `records` records (written as `putResult` writes them), streamed
 * start to end by a fresh reader — a new client, from offset -1 — `runs` times.
 */
export async function runReplay(stack: StackProcess, o: ReplayOptions): Promise<ReplayResult> {
  const seeder = new Writer(stack.info, "seed");
  const arn = executionArnFor(stack.info, "replay", 0);
  const runs: ReplayRun[] = [];
  try {
    progress(`replay: writing ${o.records} records`);
    await seeder.seed(arn, o.records, { final: true });
    await stack.profile("replay", async () => {
      for (let i = 0; i < o.runs; i++) {
        progress(`replay: run ${i + 1}/${o.runs}`);
        const reader = new Reader(`replay-${i}`, stack.info.streamUrl, stack.info, { sign: true });
        const a = await stack.snapshot();
        const cpu0 = process.cpuUsage();
        const t0 = now();
        const r = await reader.consume(arn);
        const t1 = now();
        const cpu1 = process.cpuUsage(cpu0);
        const b = await stack.snapshot();
        if (r.error || r.records !== o.records || r.duplicates) {
          throw new Error(
            `replay: delivered ${r.records} of ${o.records} (${r.duplicates} duplicates) ${r.error ?? ""}`,
          );
        }
        const seconds = (t1 - t0) / 1000;
        runs.push({
          seconds: Math.round(seconds * 1000) / 1000,
          recordsPerSecond: Math.round(o.records / seconds),
          stackCpuPercent: Math.round(((b.cpuMicros - a.cpuMicros) / 1e6 / ((b.at - a.at) / 1000)) * 100),
          clientCpuPercent: Math.round(((cpu1.user + cpu1.system) / 1e6 / seconds) * 100),
          queries: (b.counts.Query ?? 0) - (a.counts.Query ?? 0),
        });
      }
    });
  } finally {
    progressDone();
    seeder.close();
  }
  return { records: o.records, recordsPerSecond: median(runs.map((r) => r.recordsPerSecond)), runs };
}
