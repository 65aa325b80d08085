import { describe, expect, it } from "vitest";
import { summarize } from "../src/stats.js";
import { latencyCdfSvg } from "../src/svg.js";

describe("latencyCdfSvg", () => {
  it("draws one step line per reader, with its p50 and p99 in the legend, deterministically", () => {
    // Prepare
    const ours = [12, 20, 31, 45, 80];
    const base = [300, 900, 1500, 2100];
    const series = [
      { label: "ours", color: "#2563eb", values: ours, summary: summarize(ours) },
      { label: "baseline", color: "#dc2626", values: base, summary: summarize(base) },
    ];
    // Act
    const svg = latencyCdfSvg(series, "title <&>", "sub");
    // Assess
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain("ours: p50 31 ms, p99 80 ms (5 records)");
    expect(svg).toContain("title &lt;&amp;&gt;");
    expect(svg).toContain(">1 s<"); // the axis reaches the baseline's seconds
    expect(latencyCdfSvg(series, "title <&>", "sub")).toBe(svg);
  });
});
