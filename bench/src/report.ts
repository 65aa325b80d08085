import type { ArtifactsResult } from "./scenarios/artifacts.js";
import type { IdleReader } from "./scenarios/idle.js";
import type { CostPerRecord } from "./scenarios/latency.js";
import type { ReplayResult } from "./scenarios/replay.js";
import type { ScaleResult } from "./scenarios/scale.js";
import { type WriterResult, writerTable } from "./scenarios/writer.js";
import type { LatencySummary } from "./stats.js";

/** Cost figures of one reader (stable keys of `latest.json`). */
export interface ReaderCost extends CostPerRecord {
  idleQueriesPerStreamSecond: number | null;
  idleReadUnitsPerStreamSecond: number | null;
  /** Read units of one idle poll, by how many records the execution had already delivered. */
  readUnitsPerIdlePoll: Record<string, number> | null;
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean | null;
}

/** `bench/results/latest.json`. Keys are stable; a scenario that did not run leaves `null`. */
export interface BenchResults {
  ours: {
    latencyMs: LatencySummary | null;
    /** The same scenario with at most 10 executions at once: a lighter load on the local stack (full runs). */
    latencyPacedMs: LatencySummary | null;
    cost: ReaderCost | null;
    /** The shipped writer (`putResult`) per record written: what appending exactly once costs. */
    writer: CostPerRecord | null;
    scale: ScaleResult | null;
    /** The writer scenario: records/s, requests, units and latency per mode (`modes[].mode`). */
    writerAppend?: WriterResult | null;
    replay: ReplayResult | null;
    artifacts: ArtifactsResult | null;
  };
  baseline: {
    latencyMs: LatencySummary | null;
    latencyPacedMs: LatencySummary | null;
    cost: ReaderCost | null;
  };
  meta: Record<string, unknown> & { targets: Target[] };
}

const KB = 1000;
/** Issue 13's latency targets, all executions at once, default streamer settings. */
export const LATENCY_P50_TARGET_MS = 40;
export const LATENCY_P99_TARGET_MS = 150;
/** Names of the writer targets in `meta.targets`. */
export const WRITER_TARGETS = {
  single: "append, one writer",
  batch: "batch append (putResults)",
  forty: "40 concurrent writers, one execution",
} as const;

/** Evaluates the issue's targets against the figures; `met: null` where a scenario did not run. */
export function evaluateTargets(r: BenchResults): Target[] {
  const t: Target[] = [];
  const o = r.ours;
  const b = r.baseline;
  const add = (name: string, target: string, value: string | undefined, met: boolean | undefined) =>
    t.push({
      name,
      target,
      value: value ?? "not run",
      met: value === undefined || met === undefined ? null : met,
    });
  add(
    "latency p50",
    `≤ ${LATENCY_P50_TARGET_MS} ms`,
    o.latencyMs ? `${o.latencyMs.p50} ms` : undefined,
    o.latencyMs ? o.latencyMs.p50 <= LATENCY_P50_TARGET_MS : undefined,
  );
  add(
    "latency p99",
    `≤ ${LATENCY_P99_TARGET_MS} ms`,
    o.latencyMs ? `${o.latencyMs.p99} ms` : undefined,
    o.latencyMs ? o.latencyMs.p99 <= LATENCY_P99_TARGET_MS : undefined,
  );
  const speedup = o.latencyMs && b.latencyMs ? b.latencyMs.p50 / Math.max(0.1, o.latencyMs.p50) : undefined;
  add(
    "p50 vs baseline",
    "≥ 15× lower",
    speedup !== undefined ? `${speedup.toFixed(1)}× lower` : undefined,
    speedup !== undefined ? speedup >= 15 : undefined,
  );
  add(
    "extra writes per delivered record",
    "0 (baseline 1)",
    o.cost ? `${o.cost.writesPerRecord} (baseline ${b.cost?.writesPerRecord ?? "?"})` : undefined,
    o.cost ? o.cost.writesPerRecord === 0 : undefined,
  );
  const ruOurs = o.cost?.readUnitsPerIdlePoll ? Object.values(o.cost.readUnitsPerIdlePoll) : undefined;
  const ruBase = b.cost?.readUnitsPerIdlePoll ? b.cost.readUnitsPerIdlePoll : undefined;
  add(
    "read units per poll vs records delivered",
    "independent (baseline grows)",
    ruOurs && o.cost?.readUnitsPerIdlePoll
      ? `ours ${fmtUnits(o.cost.readUnitsPerIdlePoll)}; baseline ${ruBase ? fmtUnits(ruBase) : "?"}`
      : undefined,
    ruOurs ? Math.max(...ruOurs) - Math.min(...ruOurs) < 1e-9 : undefined,
  );
  const s = o.scale;
  const best = s?.levels.find((l) => l.streams === s.maxStreams);
  // A ramp that stopped below 1,000 without a failing level (--quick) decides nothing.
  const undecided = s !== null && s.maxStreams < 1000 && s.levels.every((l) => l.ok);
  add(
    "concurrent streams, zero errors, RSS ≤ 1 GiB",
    "≥ 1,000",
    s
      ? `${s.maxStreams} (peak RSS ${best?.peakRssMiB ?? "?"} MiB)${undecided ? ", ramp stopped there" : ""}`
      : undefined,
    s ? s.maxStreams >= 1000 && (best?.peakRssMiB ?? Number.POSITIVE_INFINITY) <= 1024 : undefined,
  );
  if (undecided) (t[t.length - 1] as Target).met = null;
  add(
    "replay",
    "≥ 20,000 records/s",
    o.replay ? `${o.replay.recordsPerSecond.toLocaleString("en-US")} records/s` : undefined,
    o.replay ? o.replay.recordsPerSecond >= 20_000 : undefined,
  );
  // The writer (issue 13): `ours.writerAppend.modes[]` from scenarios/writer.ts.
  const modes = o.writerAppend?.modes ?? [];
  const single = modes.find((m) => m.mode === "single" && m.writers === 1);
  add(
    WRITER_TARGETS.single,
    "≤ 2 requests and ≤ 1 read unit per record",
    single ? `${single.requestsPerRecord} requests, ${single.readUnitsPerRecord} read units` : undefined,
    single
      ? single.requestsPerRecord <= 2 && single.readUnitsPerRecord <= 1 && single.failed === 0
      : undefined,
  );
  const batch = modes.find((m) => m.mode === "batch");
  add(
    WRITER_TARGETS.batch,
    "≥ 1,000 records/s and ≤ 0.05 requests per record",
    batch
      ? `${batch.recordsPerSecond.toLocaleString("en-US")} records/s, ${batch.requestsPerRecord} requests per record`
      : undefined,
    batch
      ? batch.recordsPerSecond >= 1000 && batch.requestsPerRecord <= 0.05 && batch.failed === 0
      : undefined,
  );
  const forty = modes.find((m) => m.mode === "single" && m.writers === 40);
  add(
    WRITER_TARGETS.forty,
    "≥ 200 records/s, 0 failed",
    forty ? `${forty.recordsPerSecond.toLocaleString("en-US")} records/s, ${forty.failed} failed` : undefined,
    forty ? forty.recordsPerSecond >= 200 && forty.failed === 0 : undefined,
  );
  const a = o.artifacts;
  add(
    "zip sizes",
    "≤ 150 KB each",
    a
      ? `steps ${(a.stepsZipBytes / KB).toFixed(1)} KB, streamer ${(a.streamerZipBytes / KB).toFixed(1)} KB`
      : undefined,
    a ? a.stepsZipBytes <= 150 * KB && a.streamerZipBytes <= 150 * KB : undefined,
  );
  add(
    "bundle import (median of runs)",
    "≤ 100 ms",
    a ? `steps ${a.stepsImportMs} ms, streamer ${a.streamerImportMs} ms` : undefined,
    a ? a.stepsImportMs <= 100 && a.streamerImportMs <= 100 : undefined,
  );
  return t;
}

function fmtUnits(byDelivered: Record<string, number>): string {
  return Object.entries(byDelivered)
    .map(([d, u]) => `${u} @${d}`)
    .join(", ");
}

export function readerCost(
  latency: CostPerRecord | undefined,
  idle: IdleReader | undefined,
): ReaderCost | null {
  if (!latency && !idle) return null;
  const nan = Number.NaN;
  return {
    readsPerRecord: latency?.readsPerRecord ?? nan,
    readUnitsPerRecord: latency?.readUnitsPerRecord ?? nan,
    writesPerRecord: latency?.writesPerRecord ?? nan,
    writeUnitsPerRecord: latency?.writeUnitsPerRecord ?? nan,
    idleQueriesPerStreamSecond: idle?.idleQueriesPerStreamSecond ?? null,
    idleReadUnitsPerStreamSecond: idle?.idleReadUnitsPerStreamSecond ?? null,
    readUnitsPerIdlePoll: idle
      ? Object.fromEntries(idle.levels.map((l) => [String(l.delivered), l.readUnitsPerPoll]))
      : null,
  };
}

type Row = [string, string, string, string, string];

const num = (x: number | null | undefined, d = 1) =>
  x === null || x === undefined || Number.isNaN(x)
    ? "–"
    : x.toLocaleString("en-US", {
        minimumFractionDigits: Number.isInteger(x) ? 0 : d,
        maximumFractionDigits: d,
      });

/** The rows of the summary table: figure, ours, baseline, target, met. */
export function tableRows(r: BenchResults): Row[] {
  const o = r.ours;
  const b = r.baseline;
  const mark = (name: string) => {
    const t = r.meta.targets.find((x) => x.name === name);
    return t?.met === null || t === undefined ? "" : t.met ? "✅" : "❌";
  };
  const rows: Row[] = [];
  const lat = (k: keyof LatencySummary, target = "", name = "") =>
    rows.push([
      `latency ${k} (ms)`,
      num(o.latencyMs?.[k]),
      num(b.latencyMs?.[k]),
      target,
      name ? mark(name) : "",
    ]);
  lat("p50", `≤ ${LATENCY_P50_TARGET_MS}`, "latency p50");
  lat("p95");
  lat("p99", `≤ ${LATENCY_P99_TARGET_MS}`, "latency p99");
  lat("max");
  if (o.latencyPacedMs) {
    rows.push([
      "paced (10 at once): p50 / p99 (ms)",
      `${num(o.latencyPacedMs.p50)} / ${num(o.latencyPacedMs.p99)}`,
      `${num(b.latencyPacedMs?.p50)} / ${num(b.latencyPacedMs?.p99)}`,
      "",
      "",
    ]);
  }
  if (o.latencyMs && b.latencyMs) {
    rows.push([
      "p50 speed-up vs baseline",
      `${(b.latencyMs.p50 / Math.max(0.1, o.latencyMs.p50)).toFixed(1)}×`,
      "1×",
      "≥ 15×",
      mark("p50 vs baseline"),
    ]);
  }
  const c = (k: keyof CostPerRecord, label: string, d = 2, target = "", name = "") =>
    rows.push([label, num(o.cost?.[k], d), num(b.cost?.[k], d), target, name ? mark(name) : ""]);
  c("readsPerRecord", "reads (Queries) / delivered record");
  c("readUnitsPerRecord", "read units / delivered record");
  c("writesPerRecord", "writes / delivered record", 2, "0", "extra writes per delivered record");
  c("writeUnitsPerRecord", "write units / delivered record");
  rows.push([
    "idle Queries / stream-second",
    num(o.cost?.idleQueriesPerStreamSecond, 2),
    num(b.cost?.idleQueriesPerStreamSecond, 2),
    "",
    "",
  ]);
  rows.push([
    "idle read units / stream-second",
    num(o.cost?.idleReadUnitsPerStreamSecond, 2),
    num(b.cost?.idleReadUnitsPerStreamSecond, 2),
    "",
    "",
  ]);
  for (const d of Object.keys(o.cost?.readUnitsPerIdlePoll ?? {})) {
    rows.push([
      `read units / idle poll, ${Number(d).toLocaleString("en-US")} delivered`,
      num(o.cost?.readUnitsPerIdlePoll?.[d], 1),
      num(b.cost?.readUnitsPerIdlePoll?.[d], 1),
      d === Object.keys(o.cost?.readUnitsPerIdlePoll ?? {})[0] ? "flat" : "",
      d === Object.keys(o.cost?.readUnitsPerIdlePoll ?? {})[0]
        ? mark("read units per poll vs records delivered")
        : "",
    ]);
  }
  if (o.writer) {
    rows.push([
      "writer: reads / writes per record",
      `${num(o.writer.readsPerRecord, 2)} / ${num(o.writer.writesPerRecord, 2)}`,
      "0 / 1 ¹",
      "",
      "",
    ]);
    rows.push([
      "writer: read / write units per record",
      `${num(o.writer.readUnitsPerRecord, 2)} / ${num(o.writer.writeUnitsPerRecord, 2)}`,
      "0 / 1 ¹",
      "",
      "",
    ]);
  }
  const modes = o.writerAppend?.modes ?? [];
  const sample = modes.find((m) => m.mode === "sample");
  const single = modes.find((m) => m.mode === "single" && m.writers === 1);
  if (single) {
    rows.push([
      "append, 1 writer: requests / read units per record",
      `${num(single.requestsPerRecord, 3)} / ${num(single.readUnitsPerRecord, 3)}`,
      sample ? `${num(sample.requestsPerRecord, 3)} / ${num(sample.readUnitsPerRecord, 3)} ²` : "",
      "≤ 2 / ≤ 1",
      mark(WRITER_TARGETS.single),
    ]);
  }
  const batch = modes.find((m) => m.mode === "batch");
  if (batch) {
    rows.push([
      "batch append: records/s, requests per record",
      `${num(batch.recordsPerSecond, 0)}, ${num(batch.requestsPerRecord, 3)}`,
      sample ? `${num(sample.recordsPerSecond, 0)}, ${num(sample.requestsPerRecord, 3)} ²` : "",
      "≥ 1,000, ≤ 0.05",
      mark(WRITER_TARGETS.batch),
    ]);
  }
  const forty = modes.find((m) => m.mode === "single" && m.writers === 40);
  if (forty) {
    rows.push([
      "40 writers into one execution: records/s",
      `${num(forty.recordsPerSecond, 0)}${forty.failed ? ` (${forty.failed} failed)` : ""}`,
      "",
      "≥ 200",
      mark(WRITER_TARGETS.forty),
    ]);
  }
  if (o.scale) {
    const best = o.scale.levels.find((l) => l.streams === o.scale?.maxStreams);
    rows.push([
      "concurrent streams (0 errors, all delivered)",
      `${num(o.scale.maxStreams)}`,
      "",
      "≥ 1,000, RSS ≤ 1 GiB",
      mark("concurrent streams, zero errors, RSS ≤ 1 GiB"),
    ]);
    if (best)
      rows.push([
        "  stack peak RSS / CPU at that level",
        `${best.peakRssMiB} MiB / ${best.cpuPercent} %`,
        "",
        "",
        "",
      ]);
  }
  if (o.replay)
    rows.push(["replay (records/s)", num(o.replay.recordsPerSecond), "", "≥ 20,000", mark("replay")]);
  const a = o.artifacts;
  if (a) {
    rows.push([
      "steps.zip / streamer.zip (KB)",
      `${(a.stepsZipBytes / KB).toFixed(1)} / ${(a.streamerZipBytes / KB).toFixed(1)}`,
      "",
      "≤ 150 each",
      mark("zip sizes"),
    ]);
    rows.push([
      "import steps / streamer (ms)",
      `${a.stepsImportMs} / ${a.streamerImportMs}`,
      "",
      "≤ 100 each",
      mark("bundle import (median of runs)"),
    ]);
  }
  return rows;
}

/** The table for a terminal. */
export function textTable(r: BenchResults): string {
  const head: Row = ["figure", "ours", "baseline", "target", ""];
  const rows = [head, ...tableRows(r)];
  const width = (s: string) => [...s].length;
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => width(row[i] as string))));
  const pad = (s: string, n: number, right = false) =>
    right ? " ".repeat(n - width(s)) + s : s + " ".repeat(n - width(s));
  const lines = rows.map((row) =>
    [
      pad(row[0], w[0] as number),
      pad(row[1], w[1] as number, true),
      pad(row[2], w[2] as number, true),
      pad(row[3], w[3] as number),
      row[4],
    ].join("  "),
  );
  lines.splice(1, 0, "-".repeat(lines[0]?.length ?? 40));
  return lines.join("\n");
}

/** The table as Markdown (for the README). */
export function markdownTable(r: BenchResults): string {
  const rows = tableRows(r);
  const out = ["| figure | ours | baseline (AWS sample) | target | |", "| --- | ---: | ---: | --- | --- |"];
  for (const row of rows) out.push(`| ${row.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
  const notes: string[] = [];
  if (r.ours.writer)
    notes.push(
      "¹ The sample's own writer is a single `PutItem` per record; both readers here read the records `putResult` wrote.",
    );
  if (r.ours.writerAppend?.modes.some((m) => m.mode === "sample"))
    notes.push("² The AWS sample's writer (one `PutItem` per record, one writer) in the same writer run.");
  if (notes.length) out.push("", ...notes.flatMap((n, i) => (i ? ["", n] : [n])));
  return out.join("\n");
}

/** The whole Markdown block the README shows: when and where, the table, the scale levels. */
export function resultsMarkdown(r: BenchResults): string {
  const load = (r.meta.loadAverage as { atStart?: number[] } | undefined)?.atStart?.[0];
  return [
    `Measured ${r.meta.date} on ${r.meta.cpus} cores (${r.meta.cpuModel}), Node ${r.meta.node}${r.meta.quick ? ", --quick" : ""}${load !== undefined ? `, load average ${load} at the start` : ""}; \`make bench\`.`,
    "",
    markdownTable(r),
    "",
    ...(r.ours.writerAppend ? [writerTable(r.ours.writerAppend), ""] : []),
    ...(r.ours.scale ? ["Scale levels (one local stack process):", "", scaleMarkdown(r.ours.scale), ""] : []),
  ].join("\n");
}

/** Scale levels as Markdown. */
export function scaleMarkdown(s: ScaleResult): string {
  const out = [
    "| streams | ok | delivered | errors | RSS idle (MiB) | RSS peak (MiB) | CPU (%) | Queries/s | p50 (ms) | p99 (ms) | duration (s) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const l of s.levels) {
    out.push(
      `| ${l.streams.toLocaleString("en-US")} | ${l.ok ? "yes" : "no"} | ${l.delivered}/${l.expected} | ${l.errors} | ${l.rssMiB} | ${l.peakRssMiB} | ${l.cpuPercent} | ${l.queriesPerSecond} | ${l.latencyP50Ms} | ${l.latencyP99Ms} | ${l.durationS} |`,
    );
  }
  return out.join("\n");
}
