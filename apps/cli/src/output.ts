import type { ResultRecord, StreamOutcome } from "@stepstream/client";
import pc from "picocolors";

/** How a command shows a stream: JSON Lines, plain lines, or plain lines under a live progress bar. */
export interface Reporter {
  started(executionArn: string): void;
  record(record: ResultRecord): void;
  reconnect(offset: string, attempt: number): void;
  outcome(outcome: StreamOutcome): void;
  /** Removes the progress bar (before anything else is printed to the terminal). */
  stop(): void;
}

export function resultText(result: unknown): string {
  return typeof result === "string" ? result : JSON.stringify(result);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** `--json`: each data record as one line; a failed or timed-out run's terminal record last. */
export function jsonReporter(out: NodeJS.WritableStream = process.stdout): Reporter {
  return {
    started() {},
    record(r) {
      out.write(`${JSON.stringify(r)}\n`);
    },
    reconnect() {},
    outcome(o) {
      if (o.status !== "succeeded") out.write(`${JSON.stringify(o.terminal)}\n`);
    },
    stop() {},
  };
}

/**
 * Human output: one line per record as it lands and the terminal status last; on a terminal, a live
 * progress bar (records / expected, elapsed, rate) on stderr, redrawn under the records.
 */
export function humanReporter(opts: {
  expected: number | null;
  live: boolean;
  verb?: string;
  numbered?: boolean;
}): Reporter {
  const t0 = Date.now();
  let n = 0;
  let arn = "";
  let timer: NodeJS.Timeout | undefined;
  let barShown = false;
  const err = process.stderr;
  const width = () => Math.max(40, Math.min(process.stdout.columns ?? 80, 120));
  const spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let tick = 0;

  const clearBar = () => {
    if (barShown) {
      err.write("\r\x1b[2K");
      barShown = false;
    }
  };
  const drawBar = () => {
    if (!opts.live) return;
    const elapsed = Date.now() - t0;
    const rate = n / Math.max(0.001, elapsed / 1000);
    const stats = `${n}${opts.expected ? `/${opts.expected}` : ""} results  ${seconds(elapsed)}  ${rate.toFixed(2)}/s`;
    let bar: string;
    if (opts.expected) {
      const cells = Math.max(10, Math.min(30, width() - stats.length - 6));
      const done = Math.min(cells, Math.round((n / opts.expected) * cells));
      bar = `${pc.cyan("█".repeat(done))}${pc.dim("░".repeat(cells - done))}`;
    } else {
      bar = pc.cyan(spinner[tick++ % spinner.length] ?? "");
    }
    err.write(`\r\x1b[2K${bar} ${stats}`);
    barShown = true;
  };
  const print = (line: string) => {
    clearBar();
    process.stdout.write(`${line}\n`);
    drawBar();
  };

  return {
    started(executionArn) {
      arn = executionArn;
      print(`${pc.bold(opts.verb ?? "streaming")} ${executionArn}`);
      if (opts.live) timer = setInterval(drawBar, 100);
    },
    record(r) {
      const tag = r.Type === "final" ? pc.green(" final") : "";
      const at = pc.dim(`+${seconds(Date.now() - t0)}`);
      print(
        `  ${opts.numbered === false ? "" : pc.dim(`#${n}`.padEnd(5))}${resultText(r.Result).padEnd(28)}  ${at}  ${pc.dim(r.Offset)}${tag}`,
      );
      n++;
    },
    reconnect(offset, attempt) {
      print(pc.yellow(`  … connection dropped, resuming after offset ${offset} (attempt ${attempt})`));
    },
    outcome(o) {
      this.stop();
      const took = seconds(Date.now() - t0);
      if (o.status === "succeeded") {
        process.stdout.write(`${pc.green("✔ succeeded")}  ${n} result${n === 1 ? "" : "s"} in ${took}\n`);
      } else {
        const label = o.status === "failed" ? pc.red("✖ failed") : pc.yellow("⏱ timed out");
        const detail = o.error ? `${pc.bold(o.error.Error)}: ${o.error.Cause}` : "";
        process.stdout.write(`${label}  after ${n} result${n === 1 ? "" : "s"} in ${took}  ${detail}\n`);
        if (arn) process.stdout.write(pc.dim(`  all records: stepstream results ${arn}\n`));
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      clearBar();
    },
  };
}

/** `results`: the stored records as a table. */
export function printTable(records: ResultRecord[], outcome: StreamOutcome | null): void {
  const rows = records.map((r, i) => [
    String(i),
    r.Offset,
    r.Type,
    r.RecordKey,
    r.ResultTimestamp.replace("T", " ").replace("Z", ""),
    r.Error ? `${r.Error.Error}: ${r.Error.Cause}` : resultText(r.Result),
  ]);
  const head = ["#", "OFFSET", "TYPE", "KEY", "WRITTEN (UTC)", "RESULT"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? "").length)));
  const fixed = widths.slice(0, -1).reduce((a, b) => a + b + 2, 0);
  const cols = process.stdout.isTTY ? (process.stdout.columns ?? 120) : Number.POSITIVE_INFINITY;
  const last = Math.max(20, cols - fixed);
  const line = (cells: string[], style: (s: string) => string = (s) => s) =>
    cells
      .map((c, i) => {
        if (i === cells.length - 1) return c.length > last ? `${c.slice(0, last - 1)}…` : c;
        return c.padEnd(widths[i] ?? 0);
      })
      .map(style)
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(head, pc.bold)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  if (outcome) {
    const status =
      outcome.status === "succeeded"
        ? pc.green("succeeded")
        : outcome.status === "failed"
          ? pc.red("failed")
          : pc.yellow("timed out");
    process.stdout.write(
      `\n${records.filter((r) => r.Type === "result" || r.Type === "final").length} results, status ${status}\n`,
    );
  }
}
