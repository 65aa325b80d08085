import { describe, expect, it } from "vitest";
import { cdfPoints, median, percentile, seededRandom, summarize, uniformInt } from "../src/stats.js";

describe("percentile (nearest rank)", () => {
  it("returns an observed value: the smallest with at least p % of the sample at or below it", () => {
    // Prepare
    const s = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    // Act / Assess
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 95)).toBe(95);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 0.5)).toBe(1);
  });

  it("handles small and empty samples", () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2], 50)).toBe(1);
    expect(percentile([1, 2], 51)).toBe(2);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
  });

  it("summarizes an unsorted sample without changing it", () => {
    const values = [30, 10, 20, 40, 1000];
    const s = summarize(values);
    expect(s).toEqual({ count: 5, p50: 30, p95: 1000, p99: 1000, max: 1000, mean: 220 });
    expect(values).toEqual([30, 10, 20, 40, 1000]);
  });

  it("sorts numerically, not as strings", () => {
    expect(summarize([9, 10, 100]).p50).toBe(10);
  });
});

describe("median", () => {
  it("is the middle value, or the mean of the two middle values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe("cdfPoints", () => {
  it("rises to 1 at the largest value and keeps at most maxPoints (+ the last)", () => {
    const pts = cdfPoints(
      Array.from({ length: 1000 }, (_, i) => i),
      100,
    );
    expect(pts.length).toBeLessThanOrEqual(101);
    expect(pts[pts.length - 1]).toEqual([999, 1]);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i]?.[0]).toBeGreaterThanOrEqual(pts[i - 1]?.[0] as number);
      expect(pts[i]?.[1]).toBeGreaterThan(pts[i - 1]?.[1] as number);
    }
  });
});

describe("seededRandom", () => {
  it("repeats a schedule for a seed and stays in range", () => {
    const a = seededRandom(6);
    const b = seededRandom(6);
    const xs = Array.from({ length: 1000 }, () => uniformInt(a, 20, 200));
    const ys = Array.from({ length: 1000 }, () => uniformInt(b, 20, 200));
    expect(xs).toEqual(ys);
    expect(Math.min(...xs)).toBe(20);
    expect(Math.max(...xs)).toBe(200);
  });
});
