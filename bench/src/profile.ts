import { readFileSync } from "node:fs";

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  /** Wall time covered, seconds. */
  seconds: number;
  /** Share of the time the process was on CPU (not idle), %. */
  busyPercent: number;
  /** Where the busy time went, by package (node_modules package, node internal, or file), % of busy. */
  byPackage: [string, number][];
  /** The hottest functions by self time, % of busy. */
  byFunction: [string, number][];
}

function packageOf(url: string, fn: string): string {
  if (!url) return fn || "(native)";
  const pnpm = url.split("node_modules/.pnpm/")[1];
  if (pnpm) return (pnpm.split("/")[0] ?? pnpm).replace(/@(\d[^@]*)$/, "");
  if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:").split("/")[0] ?? url;
  const m = /\/work\/[^/]+\/(.*)$/.exec(url) ?? /([^/]+\/[^/]+\/[^/]+)$/.exec(url);
  return (m?.[1] ?? url).split("/").slice(0, 3).join("/");
}

/** Summarizes a V8 `.cpuprofile` by self time. */
export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const pkg = new Map<string, number>();
  const fn = new Map<string, number>();
  let idle = 0;
  for (const [id, t] of self) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    if (cf.functionName === "(idle)") {
      idle += t;
      continue;
    }
    const k = packageOf(cf.url, cf.functionName);
    pkg.set(k, (pkg.get(k) ?? 0) + t);
    const f = `${cf.functionName || "(anonymous)"} (${k}${cf.url ? `:${cf.lineNumber + 1}` : ""})`;
    fn.set(f, (fn.get(f) ?? 0) + t);
  }
  const busy = Math.max(1, total - idle);
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, t]) => [k, Math.round((1000 * t) / busy) / 10] as [string, number]);
  return {
    file,
    seconds: Math.round(total / 1e5) / 10,
    busyPercent: Math.round((100 * (total - idle)) / Math.max(1, total)),
    byPackage: rank(pkg),
    byFunction: rank(fn),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [`${s.file}: ${s.seconds} s, on CPU ${s.busyPercent} % of it; busy time by package:`];
  for (const [k, v] of s.byPackage) lines.push(`  ${v.toFixed(1).padStart(5)} %  ${k}`);
  lines.push("  hottest functions (self time):");
  for (const [k, v] of s.byFunction.slice(0, 8)) lines.push(`  ${v.toFixed(1).padStart(5)} %  ${k}`);
  return lines.join("\n");
}
