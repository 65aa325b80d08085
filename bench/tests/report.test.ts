import { describe, expect, it } from "vitest";
import { type BenchResults, evaluateTargets, tableRows, WRITER_TARGETS } from "../src/report.js";
import type { ScaleLevel } from "../src/scenarios/scale.js";
import type { WriterMode } from "../src/scenarios/writer.js";

function level(streams: number, ok: boolean, peakRssMiB = 300): ScaleLevel {
  return {
    streams,
    ok,
    expected: 2 * streams,
    delivered: ok ? 2 * streams : 0,
    missing: 0,
    duplicates: 0,
    errors: ok ? 0 : 1,
    reconnects: 0,
    rssMiB: peakRssMiB,
    peakRssMiB,
    cpuPercent: 90,
    idleCpuPercent: 10,
    queriesPerSecond: 900,
    latencyP50Ms: 100,
    latencyP99Ms: 500,
    durationS: 10,
  };
}

function results(levels: ScaleLevel[], maxStreams: number): BenchResults {
  return {
    ours: {
      latencyMs: null,
      latencyPacedMs: null,
      cost: null,
      writer: null,
      scale: { maxStreams, levels },
      replay: null,
      artifacts: null,
    },
    baseline: { latencyMs: null, latencyPacedMs: null, cost: null },
    meta: { targets: [] },
  };
}

const scaleTarget = (r: BenchResults) =>
  evaluateTargets(r).find((t) => t.name.startsWith("concurrent streams"));

describe("evaluateTargets: scale", () => {
  it("passes at ≥ 1,000 streams within 1 GiB, fails above it or below 1,000 after a failing level", () => {
    expect(scaleTarget(results([level(500, true), level(1000, true, 900)], 1000))?.met).toBe(true);
    expect(scaleTarget(results([level(1000, true, 1100)], 1000))?.met).toBe(false);
    expect(scaleTarget(results([level(500, true), level(1000, false)], 500))?.met).toBe(false);
  });

  it("decides nothing when a quick ramp stopped below 1,000 without a failure", () => {
    const t = scaleTarget(results([level(100, true), level(500, true)], 500));
    expect(t?.met).toBeNull();
    expect(t?.value).toContain("ramp stopped there");
  });

  it("marks scenarios that did not run", () => {
    expect(evaluateTargets(results([], 0)).find((t) => t.name === "replay")?.met).toBeNull();
  });
});

function mode(m: Partial<WriterMode> & Pick<WriterMode, "mode" | "writers">): WriterMode {
  return {
    records: 1000,
    recordsPerSecond: 300,
    requestsPerRecord: 1.005,
    transactionsPerRecord: 1,
    readUnitsPerRecord: 0.003,
    writeUnitsPerRecord: 4,
    latencyMs: { p50: 2, p99: 20 },
    failed: 0,
    ...m,
  };
}

function withWriter(modes: WriterMode[]): BenchResults {
  const r = results([], 0);
  r.ours.scale = null;
  r.ours.writerAppend = { modes, loadAverage: 1 };
  return r;
}

const target = (r: BenchResults, name: string) => evaluateTargets(r).find((t) => t.name === name);

describe("evaluateTargets: the writer and latency targets of issue 13", () => {
  it("scores the single-record append by requests and read units per record", () => {
    const ok = withWriter([mode({ mode: "single", writers: 1 })]);
    expect(target(ok, WRITER_TARGETS.single)?.met).toBe(true);
    const reads = withWriter([
      mode({ mode: "single", writers: 1, requestsPerRecord: 3, readUnitsPerRecord: 2 }),
    ]);
    expect(target(reads, WRITER_TARGETS.single)?.met).toBe(false);
  });

  it("scores the batch append by records/s and requests per record", () => {
    const ok = withWriter([
      mode({ mode: "batch", writers: 1, recordsPerSecond: 1249, requestsPerRecord: 0.021 }),
    ]);
    expect(target(ok, WRITER_TARGETS.batch)?.met).toBe(true);
    const slow = withWriter([
      mode({ mode: "batch", writers: 1, recordsPerSecond: 999, requestsPerRecord: 0.021 }),
    ]);
    expect(target(slow, WRITER_TARGETS.batch)?.met).toBe(false);
    const chatty = withWriter([
      mode({ mode: "batch", writers: 1, recordsPerSecond: 5000, requestsPerRecord: 0.06 }),
    ]);
    expect(target(chatty, WRITER_TARGETS.batch)?.met).toBe(false);
  });

  it("scores 40 concurrent writers by records/s, and prints the miss in the table", () => {
    const r = withWriter([mode({ mode: "single", writers: 40, recordsPerSecond: 28 })]);
    r.meta.targets = evaluateTargets(r);
    expect(target(r, WRITER_TARGETS.forty)?.met).toBe(false);
    const row = tableRows(r).find((x) => x[0].startsWith("40 writers"));
    expect(row).toEqual(["40 writers into one execution: records/s", "28", "", "≥ 200", "❌"]);
    expect(
      target(withWriter([mode({ mode: "single", writers: 40, recordsPerSecond: 210 })]), WRITER_TARGETS.forty)
        ?.met,
    ).toBe(true);
  });

  it("leaves the writer targets unscored when the writer scenario did not run", () => {
    const r = results([], 0);
    for (const name of Object.values(WRITER_TARGETS)) expect(target(r, name)?.met).toBeNull();
  });

  it("holds all-at-once latency to p50 ≤ 40 ms and p99 ≤ 150 ms", () => {
    const r = results([], 0);
    r.ours.latencyMs = { count: 1000, p50: 41, p95: 120, p99: 150, max: 300, mean: 50 };
    expect(target(r, "latency p50")?.met).toBe(false);
    expect(target(r, "latency p99")?.met).toBe(true);
    expect(target(r, "latency p50")?.target).toBe("≤ 40 ms");
    expect(target(r, "latency p99")?.target).toBe("≤ 150 ms");
  });
});
