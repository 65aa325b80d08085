#!/usr/bin/env node
// `make bench`: stepstream's streaming vs the AWS sample's polling, on the local stack, same machine,
// same run. See bench/README.md for what each figure means.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { StreamerSettings } from "@stepstream/local";
import { loadStreamerConfig } from "@stepstream/streamer";
import { BaselineProcess, buildsPresent, StackProcess } from "./processes.js";
import { formatProfile, type ProfileSummary, summarizeProfile } from "./profile.js";
import {
  type BenchResults,
  evaluateTargets,
  readerCost,
  resultsMarkdown,
  scaleMarkdown,
  textTable,
} from "./report.js";
import { type ArtifactsResult, BUNDLES, runArtifacts } from "./scenarios/artifacts.js";
import { type IdleResult, runIdle } from "./scenarios/idle.js";
import { type LatencyResult, runLatency } from "./scenarios/latency.js";
import { type ReplayResult, runReplay } from "./scenarios/replay.js";
import { runScale, type ScaleResult } from "./scenarios/scale.js";
import { runWriter, type WriterResult, writerTable } from "./scenarios/writer.js";
import { latencyCdfSvg } from "./svg.js";

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = resolve(BENCH_DIR, "..");
/** Executions at once in the paced latency run (full runs). */
const PACED_CONCURRENCY = 10;
const SCENARIOS = ["artifacts", "latency", "idle", "replay", "scale", "writer"] as const;
type Scenario = (typeof SCENARIOS)[number];

const HELP = `usage: node bench/dist/main.js [options]

  --quick                   the short version (under 2 minutes); results go to bench/results/tmp/
  --only a,b                scenarios to run: ${SCENARIOS.join(", ")} (default: all)
  --poll-interval-ms N      streamer POLL_INTERVAL_MS for this run (default: the streamer's default)
  --max-poll-interval-ms N  streamer MAX_POLL_INTERVAL_MS for this run
  --page-size N             streamer PAGE_SIZE for this run
  --baseline-poll-ms N      the sample's fixed polling interval (default 2000)
  --executions N, --records N, --gap-ms LO-HI, --concurrency N
                            the latency scenario's shape (default 50 executions × 20 records, 20-200 ms
                            apart, all at once); for tuning studies, not for the recorded results
  --levels a,b,c            scale levels (default 100,250,500,1000,1500,2000; quick 100,250,500)
  --seed N                  seed of the write schedule (default 6)
  --out DIR                 where to write results (default bench/results, quick: bench/results/tmp)
  --render FILE             only re-render the table from a results file (and the README, for bench/results)
  --cpu-prof                write V8 CPU profiles of the stack process to <out>/profiles
  --emulator-in-process     run the DynamoDB emulator inside the stack's process (as before), not in its
                            own: latency then measures the emulator's CPU too (for comparison)
  --no-accounting           skip the capacity accounting in the stack (to measure its overhead; no cost figures)
  --help
`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "poll-interval-ms": { type: "string" },
      "max-poll-interval-ms": { type: "string" },
      "page-size": { type: "string" },
      "baseline-poll-ms": { type: "string", default: "2000" },
      levels: { type: "string" },
      seed: { type: "string", default: "6" },
      out: { type: "string" },
      "cpu-prof": { type: "boolean", default: false },
      "emulator-in-process": { type: "boolean", default: false },
      render: { type: "string" },
      "no-accounting": { type: "boolean", default: false },
      executions: { type: "string" },
      records: { type: "string" },
      "gap-ms": { type: "string" },
      concurrency: { type: "string" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, lo: number, hi: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new Error(`--${name} must be an integer in ${lo}..${hi}, got ${v}`);
    return n;
  };
  const only = (values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean) ?? [...SCENARIOS]) as Scenario[];
  for (const s of only)
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(", ")}`);
  const quick = values.quick ?? false;
  const levels = values.levels
    ? values.levels.split(",").map((s) => int("levels", s.trim(), 1, 5000) as number)
    : quick
      ? [100, 250, 500]
      : [100, 250, 500, 1000, 1500, 2000];
  const streamer: StreamerSettings = {};
  const poll = int("poll-interval-ms", values["poll-interval-ms"], 10, 10_000);
  const maxPoll = int("max-poll-interval-ms", values["max-poll-interval-ms"], 10, 30_000);
  const page = int("page-size", values["page-size"], 1, 1000);
  if (poll !== undefined) streamer.pollIntervalMs = poll;
  if (maxPoll !== undefined) streamer.maxPollIntervalMs = maxPoll;
  if (page !== undefined) streamer.pageSize = page;
  return {
    quick,
    only: new Set(only),
    streamer,
    baselinePollMs: int("baseline-poll-ms", values["baseline-poll-ms"], 10, 60_000) as number,
    levels,
    seed: int("seed", values.seed, 0, 2 ** 31) as number,
    out: resolve(values.out ?? join(BENCH_DIR, quick ? "results/tmp" : "results")),
    cpuProf: values["cpu-prof"] ?? false,
    separateEmulator: !(values["emulator-in-process"] ?? false),
    accounting: !(values["no-accounting"] ?? false),
    render: values.render,
    executions: int("executions", values.executions, 1, 1000),
    records: int("records", values.records, 2, 10_000),
    gapMs: values["gap-ms"]?.split("-").map((x) => int("gap-ms", x, 0, 60_000) as number),
    concurrency: int("concurrency", values.concurrency, 1, 1000),
  };
}

function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

function section(title: string): void {
  process.stderr.write(`\n▶ ${title}\n`);
}

async function main(): Promise<void> {
  const o = parseOptions();
  if (o.render) {
    // Re-renders the table (stdout, latest.md beside the file, the README) from recorded results.
    const results = JSON.parse(readFileSync(o.render, "utf8")) as BenchResults;
    const md = resultsMarkdown(results);
    writeFileSync(join(dirname(resolve(o.render)), "latest.md"), md);
    if (!results.meta.quick && dirname(resolve(o.render)) === join(BENCH_DIR, "results")) updateReadme(md);
    process.stdout.write(`${textTable(results)}\n`);
    return;
  }
  const missing = buildsPresent([
    join(ROOT, BUNDLES.stepsZip),
    join(ROOT, BUNDLES.streamerZip),
    join(ROOT, BUNDLES.stepsBundle),
    join(ROOT, BUNDLES.streamerBundle),
  ]);
  if (missing.length) throw new Error(`missing builds (run \`make build\` first): ${missing.join(", ")}`);
  const started = Date.now();
  const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  if ((loadAtStart[0] ?? 0) > cpus().length * 0.5) {
    process.stderr.write(
      `note: the machine is busy (load average ${loadAtStart.join(", ")} on ${cpus().length} cores); the stack shares the CPU and its figures will be pessimistic\n`,
    );
  }
  // The streamer's effective settings: its own defaults unless overridden here.
  const defaults = loadStreamerConfig({
    TABLE_NAME: "bench",
    STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x",
  });
  const settings = {
    pollIntervalMs: o.streamer.pollIntervalMs ?? defaults.pollIntervalMs,
    maxPollIntervalMs: Math.max(
      o.streamer.maxPollIntervalMs ?? defaults.maxPollIntervalMs,
      o.streamer.pollIntervalMs ?? defaults.pollIntervalMs,
    ),
    pageSize: o.streamer.pageSize ?? defaults.pageSize,
    baselinePollMs: o.baselinePollMs,
    streamerDefaults: !o.streamer.pollIntervalMs && !o.streamer.maxPollIntervalMs && !o.streamer.pageSize,
    /** Latency, idle and replay: the DynamoDB emulator in its own process (scale: in the stack's). */
    emulatorInOwnProcess: o.separateEmulator,
  };
  const params = {
    latency: {
      group: "latency",
      executions: o.executions ?? 50,
      recordsPerExecution: o.records ?? 20,
      minGapMs: o.gapMs?.[0] ?? 20,
      maxGapMs: o.gapMs?.[1] ?? o.gapMs?.[0] ?? 200,
      concurrency: o.concurrency ?? o.executions ?? 50,
      firstStepDelayMs: 250,
      seed: o.seed,
      drainTimeoutMs: 30_000,
    },
    idle: {
      deliveredLevels: [1, 100, 1000],
      streamsPerLevel: o.quick ? 2 : 4,
      settleMs: 2500,
      windowMs: o.quick ? 4000 : 12_000,
    },
    replay: { records: 10_000, runs: o.quick ? 2 : 5 },
    scale: {
      levels: o.levels,
      recordsPerExecution: 2,
      gapMs: 500,
      holdMs: o.quick ? 1500 : 3000,
      writeConcurrency: 32,
      drainTimeoutMs: o.quick ? 45_000 : 120_000,
    },
    artifacts: { importRuns: 10 },
  };
  process.stderr.write(
    `stepstream bench${o.quick ? " (quick)" : ""}: POLL_INTERVAL_MS=${settings.pollIntervalMs} MAX_POLL_INTERVAL_MS=${settings.maxPollIntervalMs} PAGE_SIZE=${settings.pageSize}; baseline polls every ${settings.baselinePollMs} ms\n`,
  );

  let artifacts: ArtifactsResult | undefined;
  let latency: LatencyResult | undefined;
  let paced: LatencyResult | undefined;
  let idle: IdleResult | undefined;
  let replay: ReplayResult | undefined;
  let scale: ScaleResult | undefined;
  let writer: WriterResult | undefined;
  const profiles = o.cpuProf ? join(o.out, "profiles") : undefined;

  if (o.only.has("artifacts")) {
    // First, while nothing else runs.
    section(`artifacts: zip sizes, bundle import in a fresh node (median of ${params.artifacts.importRuns})`);
    artifacts = runArtifacts(ROOT, params.artifacts.importRuns);
  }

  if (o.only.has("latency") || o.only.has("idle") || o.only.has("replay")) {
    const stack = await StackProcess.start({
      streamer: o.streamer,
      accounting: o.accounting,
      separateEmulator: o.separateEmulator,
      ...(profiles ? { cpuProfileDir: profiles } : {}),
    });
    const baseline = await BaselineProcess.start({
      dynamoEndpoint: stack.info.dynamoEndpoint,
      tableName: stack.info.tableName,
      pollMs: o.baselinePollMs,
    });
    try {
      if (o.only.has("latency")) {
        section(
          `latency + cost: ${params.latency.executions} executions × ${params.latency.recordsPerExecution} records, ${params.latency.minGapMs}–${params.latency.maxGapMs} ms apart, ${params.latency.concurrency >= params.latency.executions ? "all at once" : `${params.latency.concurrency} at a time`}; both readers on every execution`,
        );
        latency = (await stack.profile("latency", () => runLatency(stack, baseline, params.latency))).result;
        const breakdown = (r: LatencyResult) => {
          const b = r.ours.breakdownMs;
          if (b)
            process.stderr.write(
              `  ours, p50 (p99) ms: ack → poll ${b.pollWait.p50} (${b.pollWait.p99}), in the emulator ${b.query.p50} (${b.query.p99}), answer → client ${b.delivery.p50} (${b.delivery.p99})\n`,
            );
        };
        const report = (r: LatencyResult) =>
          process.stderr.write(
            `  ours p50 ${r.ours.latencyMs.p50} ms p99 ${r.ours.latencyMs.p99} ms, baseline p50 ${r.baseline.latencyMs.p50} ms; stack ${r.stack.cpuPercent} % CPU${r.stack.emulatorCpuPercent !== null ? `, emulator ${r.stack.emulatorCpuPercent} % CPU (own process)` : " (emulator included)"}, harness ${r.stack.harnessCpuPercent} %, ${r.stack.requestsPerSecond} DynamoDB requests/s; event-loop delay p99: harness ${r.stack.harnessLoopDelayMs.p99} ms, stack ${r.stack.loopDelayMs?.p99 ?? "?"} ms${r.stack.emulatorLoopDelayMs ? `, emulator ${r.stack.emulatorLoopDelayMs.p99} ms` : ""}${r.stack.runQueueWaitPercent ? `; waiting for a CPU: stack ${r.stack.runQueueWaitPercent.stack} %${r.stack.runQueueWaitPercent.emulator !== null ? `, emulator ${r.stack.runQueueWaitPercent.emulator} %` : ""} of the time` : ""}\n`,
          );
        report(latency);
        breakdown(latency);
        if (!o.quick && params.latency.concurrency > PACED_CONCURRENCY) {
          section(`latency, paced: the same scenario, at most ${PACED_CONCURRENCY} executions at once`);
          const p = { ...params.latency, group: "paced", concurrency: PACED_CONCURRENCY, seed: o.seed + 1 };
          paced = (await stack.profile("latency-paced", () => runLatency(stack, baseline, p))).result;
          report(paced);
          breakdown(paced);
        }
      }
      if (o.only.has("idle")) {
        section(
          `idle cost: ${params.idle.streamsPerLevel} quiet streams per reader after ${params.idle.deliveredLevels.join(" / ")} delivered records, ${params.idle.windowMs / 1000} s window`,
        );
        idle = (await stack.profile("idle", () => runIdle(stack, baseline, params.idle))).result;
      }
      if (o.only.has("replay")) {
        section(`replay: ${params.replay.records} records to a fresh reader, ${params.replay.runs} runs`);
        stack.setAccounting(false);
        replay = await runReplay(stack, params.replay);
      }
    } finally {
      await baseline.close();
      await stack.close();
    }
  }

  if (o.only.has("scale")) {
    section(`scale: concurrent streams ${o.levels.join(" → ")} on one stack`);
    const stack = await StackProcess.start({
      streamer: o.streamer,
      accounting: false,
      ...(profiles ? { cpuProfileDir: profiles } : {}),
    });
    try {
      scale = await runScale(stack, params.scale);
    } finally {
      await stack.close();
    }
  }

  if (o.only.has("writer")) {
    const records = o.quick ? 200 : 1000;
    section(
      `writer: ${records} records into one execution per mode (batch: ${records * 5}); the writers in this process, the DynamoDB emulator in its own`,
    );
    writer = await runWriter({ records, loadAverage: () => loadavg()[0] ?? 0 });
    process.stderr.write(`\n${writerTable(writer)}\n`);
  }

  const profileSummaries: ProfileSummary[] = [];
  if (profiles && existsSync(profiles)) {
    for (const f of readdirSync(profiles)
      .filter((x) => x.endsWith(".cpuprofile"))
      .sort()) {
      profileSummaries.push(summarizeProfile(join(profiles, f)));
    }
  }
  const date = new Date(started);
  const results: BenchResults = {
    ours: {
      latencyMs: latency?.ours.latencyMs ?? null,
      latencyPacedMs: paced?.ours.latencyMs ?? null,
      cost: readerCost(latency?.ours.cost, idle?.ours),
      writer: latency
        ? {
            readsPerRecord: latency.writer.readsPerRecord,
            readUnitsPerRecord: latency.writer.readUnitsPerRecord,
            writesPerRecord: latency.writer.writesPerRecord,
            writeUnitsPerRecord: latency.writer.writeUnitsPerRecord,
          }
        : null,
      scale: scale ?? null,
      writerAppend: writer ?? null,
      replay: replay ?? null,
      artifacts: artifacts ?? null,
    },
    baseline: {
      latencyMs: latency?.baseline.latencyMs ?? null,
      latencyPacedMs: paced?.baseline.latencyMs ?? null,
      cost: readerCost(latency?.baseline.cost, idle?.baseline),
    },
    meta: {
      date: date.toISOString().slice(0, 10),
      startedAt: date.toISOString(),
      durationS: 0,
      quick: o.quick,
      command: `node bench/dist/main.js${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`,
      commit: gitCommit(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      settings,
      scenarios: {
        latency: latency
          ? {
              ...params.latency,
              durationMs: latency.durationMs,
              ours: pick(latency.ours),
              baseline: pick(latency.baseline),
              writer: {
                records: latency.writer.records,
                errors: latency.writer.errors,
                ops: latency.writer.ops,
              },
              frontDoor: latency.frontDoor,
              stack: latency.stack,
            }
          : null,
        latencyPaced: paced
          ? {
              concurrency: PACED_CONCURRENCY,
              durationMs: paced.durationMs,
              ours: pick(paced.ours),
              baseline: pick(paced.baseline),
              stack: paced.stack,
            }
          : null,
        idle: idle
          ? {
              ...params.idle,
              windowMs: idle.windowMs,
              ours: idle.ours.levels,
              baseline: idle.baseline.levels,
            }
          : null,
        replay: replay ? params.replay : null,
        scale: scale ? params.scale : null,
        artifacts: artifacts ? params.artifacts : null,
      },
      loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      ...(profileSummaries.length ? { profiles: profileSummaries } : {}),
      notes: [
        "Latency: per record, from DynamoDB's acknowledgement of the write (the response leaving the emulator's front door) to the moment the client parsed its line; the emulator runs in its own process (unless --emulator-in-process), the stack in another, the harness in a third; one system clock.",
        "Read units as AWS bills them: items read before filtering, summed and rounded up to 4 KB, at least one unit per Query; eventually consistent reads half. Write units: item size rounded up to 1 KB.",
        "Both readers read the same executions at the same time; each reader's requests are told apart at the emulator's front door.",
        "Write units of a TransactWriteItems: each item twice (prepare + commit), as DynamoDB bills transactions.",
        "¹ The sample's writer is a single PutItem per record (0 reads, 1 write); ours appends exactly once with one TransactWriteItems of 2 items (the record and its key item), plus an eventually consistent head Query when a writer meets an execution it has not written.",
      ],
      targets: [],
    },
  };
  results.meta.targets = evaluateTargets(results);
  results.meta.durationS = Math.round((Date.now() - started) / 1000);

  mkdirSync(o.out, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  writeFileSync(join(o.out, "latest.json"), json);
  if (!o.quick) writeFileSync(join(o.out, `${results.meta.date}.json`), json);
  if (latency) {
    writeFileSync(
      join(o.out, "latency-cdf.svg"),
      latencyCdfSvg(
        [
          {
            label: "stepstream",
            color: "#2563eb",
            values: latency.ours.values,
            summary: latency.ours.latencyMs,
          },
          {
            label: "AWS sample (2 s polling)",
            color: "#dc2626",
            values: latency.baseline.values,
            summary: latency.baseline.latencyMs,
          },
        ],
        "Write → client latency, CDF",
        `${params.latency.executions} executions × ${params.latency.recordsPerExecution} records, ${params.latency.minGapMs}–${params.latency.maxGapMs} ms apart, ${params.latency.concurrency >= params.latency.executions ? "all at once" : `${params.latency.concurrency} at a time`}, local stack, ${results.meta.date}`,
      ),
    );
  }
  const md = resultsMarkdown(results);
  writeFileSync(join(o.out, "latest.md"), md);
  if (!o.quick && o.out === join(BENCH_DIR, "results")) updateReadme(md);

  for (const p of profileSummaries) process.stdout.write(`\n${formatProfile(p)}\n`);
  process.stdout.write(`\n${textTable(results)}\n`);
  if (scale) process.stdout.write(`\n${scaleMarkdown(scale)}\n`);
  process.stdout.write(
    `\nwrote ${join(o.out, "latest.json")}${latency ? ` and ${join(o.out, "latency-cdf.svg")}` : ""} (${results.meta.durationS} s)\n`,
  );
}

function pick(r: LatencyResult["ours"]) {
  return {
    delivered: r.delivered,
    missing: r.missing,
    duplicates: r.duplicates,
    errors: r.errors,
    reconnects: r.reconnects,
    early: r.early,
    timedFromAck: r.timedFromAck,
    writerLagMs: r.writerLagMs,
    ops: r.ops,
    ...(r.breakdownMs ? { breakdownMs: r.breakdownMs } : {}),
  };
}

/** Replaces the table between the markers of the bench README and the root README (full runs only). */
function updateReadme(md: string): void {
  const start = "<!-- bench:latest:start -->";
  const end = "<!-- bench:latest:end -->";
  for (const path of [join(BENCH_DIR, "README.md"), join(ROOT, "README.md")]) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i < 0 || j < i) continue;
    writeFileSync(path, `${text.slice(0, i + start.length)}\n${md}\n${text.slice(j)}`);
  }
}

main().catch((err) => {
  process.stderr.write(`\nbench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
