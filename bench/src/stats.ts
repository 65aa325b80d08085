/** Summary of a latency sample, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * The `p`-th percentile (0 < p ≤ 100) of a sample by the nearest-rank method: the smallest value such
 * that at least `p` % of the sample is at or below it. Always a value that was observed (no
 * interpolation), so a p99 of a 1,000-value sample is its 990th smallest value.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Sorts a copy of the values, ascending. */
export function sortedCopy(values: Iterable<number>): number[] {
  return Array.from(Float64Array.from(values).sort());
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** p50 / p95 / p99 / max / mean of a sample, rounded to 0.1 ms. */
export function summarize(values: Iterable<number>): LatencySummary {
  const s = sortedCopy(values);
  const n = s.length;
  const mean = n ? s.reduce((a, b) => a + b, 0) / n : Number.NaN;
  return {
    count: n,
    p50: round1(percentile(s, 50)),
    p95: round1(percentile(s, 95)),
    p99: round1(percentile(s, 99)),
    max: round1(n ? (s[n - 1] as number) : Number.NaN),
    mean: round1(mean),
  };
}

/** The median of a sample (nearest-rank p50 for odd sizes, the mean of the two middle values for even). */
export function median(values: readonly number[]): number {
  const s = sortedCopy(values);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Points of the empirical CDF, at most `maxPoints` of them (evenly spaced in rank), each `[value,
 * fraction of the sample ≤ value]`. The first and last values are always kept.
 */
export function cdfPoints(values: Iterable<number>, maxPoints = 400): [number, number][] {
  const s = sortedCopy(values);
  const n = s.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.ceil(n / maxPoints));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += step) out.push([s[i] as number, (i + 1) / n]);
  if (out[out.length - 1]?.[1] !== 1) out.push([s[n - 1] as number, 1]);
  return out;
}

/** A small, seeded pseudo-random generator (mulberry32): the same seed gives the same schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in [lo, hi] from `random`. */
export function uniformInt(random: () => number, lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}
