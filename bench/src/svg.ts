import { cdfPoints, type LatencySummary } from "./stats.js";

export interface CdfSeries {
  label: string;
  color: string;
  values: number[];
  summary: LatencySummary;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const f = (x: number) => (Math.round(x * 10) / 10).toString();

/**
 * The latency CDF of several readers as a standalone SVG: x is the latency on a log scale (ms), y the
 * fraction of records delivered within it. Hand-written, no dependencies; the same input gives the
 * same bytes.
 */
export function latencyCdfSvg(series: CdfSeries[], title: string, subtitle = ""): string {
  const W = 760;
  const H = 480;
  const legendTop = subtitle ? 62 : 44;
  const m = { left: 64, right: 24, top: legendTop + series.length * 20 + 6, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.values);
  const maxV = Math.max(10, ...all);
  const xMin = 1;
  const xMax = 10 ** Math.ceil(Math.log10(maxV));
  const x = (v: number) =>
    m.left +
    ((Math.log10(Math.max(xMin, v)) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const y = (p: number) => m.top + (1 - p) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="16" font-weight="600" fill="#111827">${esc(title)}</text>`,
  );
  if (subtitle) out.push(`<text x="${m.left}" y="42" fill="#4b5563">${esc(subtitle)}</text>`);
  // Grid and axes.
  for (let e = 0; 10 ** e <= xMax; e++) {
    const v = 10 ** e;
    const gx = f(x(v));
    out.push(`<line x1="${gx}" y1="${m.top}" x2="${gx}" y2="${m.top + ph}" stroke="#e5e7eb"/>`);
    out.push(
      `<text x="${gx}" y="${m.top + ph + 18}" text-anchor="middle" fill="#374151">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`,
    );
    for (const k of [2, 5]) {
      if (k * v < xMax)
        out.push(
          `<line x1="${f(x(k * v))}" y1="${m.top}" x2="${f(x(k * v))}" y2="${m.top + ph}" stroke="#f3f4f6"/>`,
        );
    }
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.95, 1]) {
    const gy = f(y(p));
    out.push(
      `<line x1="${m.left}" y1="${gy}" x2="${m.left + pw}" y2="${gy}" stroke="${p === 0.5 || p === 0.95 ? "#d1d5db" : "#e5e7eb"}"${p === 0.95 ? ' stroke-dasharray="4 3"' : ""}/>`,
    );
    out.push(
      `<text x="${m.left - 8}" y="${f(y(p) + 4)}" text-anchor="end" fill="#374151">${Math.round(p * 100)}%</text>`,
    );
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#9ca3af"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle" fill="#111827">latency: successful write → line parsed by the client (log scale)</text>`,
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#111827">records delivered within</text>`,
  );
  // Series: a step function through the empirical CDF.
  series.forEach((s, i) => {
    const pts = cdfPoints(s.values, 600);
    if (pts.length === 0) return;
    let d = `M${f(x(pts[0]?.[0] ?? xMin))},${f(y(0))}`;
    let prevY = 0;
    for (const [v, p] of pts) {
      d += `V${f(y(prevY))}H${f(x(v))}V${f(y(p))}`;
      prevY = p;
    }
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2" stroke-linejoin="round"/>`);
    const ly = legendTop + 12 + i * 20;
    const lx = m.left;
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${lx + 30}" y="${ly}" fill="#111827">${esc(s.label)}: p50 ${s.summary.p50} ms, p99 ${s.summary.p99} ms (${s.summary.count} records)</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
