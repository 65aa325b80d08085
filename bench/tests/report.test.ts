import { describe, expect, it } from "vitest";
import { type BenchResults, evaluateTargets } from "../src/report.js";
import type { ScaleLevel } from "../src/scenarios/scale.js";

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
