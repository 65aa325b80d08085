import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  type ExecutionStream,
  type ResultRecord,
  StepstreamClient,
  StepstreamClientError,
  type StreamOutcome,
} from "@stepstream/client";
import { parseExecutionArn } from "@stepstream/results-schema";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import pc from "picocolors";
import { DISCOVERY_ORDER, type Discovered, DiscoveryError, discover, missingEndpoint } from "./discover.js";
import { humanReporter, jsonReporter, printTable, type Reporter } from "./output.js";

/** Exit codes: the run's outcome, or why nothing ran. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A mistake in the command line or its input (exit 2). */
class UsageError extends Error {}

interface GlobalOptions {
  apiEndpoint?: string;
  streamUrl?: string;
  outputs?: string;
  terraformDir?: string;
  json?: boolean;
}

interface InputOptions {
  input?: string;
  count?: number;
  concurrency?: number;
  failAt?: number;
  stepWait?: number;
  stepDuration?: number;
}

const int = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return n;
};

/** The workflow input: `--input` (JSON or @file), then the shorthand flags on top. */
function workflowInput(o: InputOptions): Record<string, unknown> {
  let input: Record<string, unknown> = {};
  if (o.input !== undefined) {
    let text = o.input;
    if (text.startsWith("@")) {
      const path = resolve(text.slice(1));
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        throw new UsageError(
          `--input ${o.input}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--input is not valid JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new UsageError("--input must be a JSON object (the workflow's input), e.g. '{\"count\":5}'");
    }
    input = parsed as Record<string, unknown>;
  }
  if (o.count !== undefined) input.count = o.count;
  if (o.concurrency !== undefined) input.concurrency = o.concurrency;
  if (o.failAt !== undefined) input.failAt = o.failAt;
  if (o.stepWait !== undefined) input.stepWaitSeconds = o.stepWait;
  if (o.stepDuration !== undefined) input.stepDurationMs = o.stepDuration;
  const count = typeof input.count === "number" ? input.count : 5;
  if (typeof input.failAt === "number" && input.failAt >= count) {
    throw new UsageError(
      `--fail-at ${input.failAt} is not a step of this run: steps are 0 to ${count - 1} (--count ${count})`,
    );
  }
  return input;
}

function addInputOptions(cmd: Command): Command {
  return cmd
    .option("--input <json|@file>", "the workflow input, as JSON or @path/to/file.json")
    .option("--count <n>", "number of results (default 5)", int("--count", 1, 1000))
    .option("--concurrency <n>", "steps run at once (default 1)", int("--concurrency", 1, 40))
    .option("--fail-at <i>", "make step i fail on purpose (0-based)", int("--fail-at", 0, 999))
    .option("--step-wait <s>", "Wait state before each step, whole seconds", int("--step-wait", 0, 60))
    .option(
      "--step-duration <ms>",
      "work time inside each step, milliseconds",
      int("--step-duration", 0, 60_000),
    );
}

function checkArn(arn: string): string {
  try {
    parseExecutionArn(arn);
  } catch (err) {
    throw new UsageError(`${JSON.stringify(arn)} is not an execution ARN (${(err as Error).message})`);
  }
  return arn;
}

async function resolveConfig(g: GlobalOptions): Promise<Discovered> {
  return discover({
    ...(g.apiEndpoint ? { apiEndpoint: g.apiEndpoint } : {}),
    ...(g.streamUrl ? { streamUrl: g.streamUrl } : {}),
    ...(g.outputs ? { outputs: g.outputs } : {}),
    ...(g.terraformDir ? { terraformDir: g.terraformDir } : {}),
  });
}

function clientFor(d: Discovered, need: { api?: boolean; stream?: boolean }): StepstreamClient {
  if (need.api && !d.apiEndpoint) throw missingEndpoint("API endpoint", d);
  if (need.stream && !d.streamUrl) throw missingEndpoint("stream URL", d);
  return new StepstreamClient({
    apiEndpoint: d.apiEndpoint ?? d.streamUrl ?? "",
    ...(d.streamUrl ? { streamUrl: d.streamUrl } : {}),
    credentials: d.credentials,
    region: d.region,
  });
}

/**
 * Reads a stream to its end through `reporter`. Ctrl-C aborts it cleanly and prints how to resume;
 * the exit code follows the terminal status.
 */
async function follow(stream: ExecutionStream, abort: AbortController, reporter: Reporter): Promise<number> {
  try {
    for await (const record of stream) reporter.record(record);
    const outcome = await stream.outcome;
    reporter.outcome(outcome);
    return outcome.status === "succeeded" ? EXIT.ok : EXIT.failed;
  } catch (err) {
    reporter.stop();
    if (abort.signal.aborted) {
      process.stderr.write(
        `\nstopped at offset ${stream.offset}. Resume with:\n  stepstream stream ${stream.executionArn} --from ${stream.offset}\n`,
      );
      return EXIT.interrupted;
    }
    throw err;
  }
}

/** An AbortController that Ctrl-C (SIGINT) or SIGTERM triggers, for the life of one command. */
function interruptible(): { abort: AbortController; dispose(): void } {
  const abort = new AbortController();
  let hits = 0;
  const onSignal = () => {
    if (++hits > 1) process.exit(EXIT.interrupted); // a second Ctrl-C does not wait
    abort.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    abort,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

const live = (g: GlobalOptions) => !g.json && Boolean(process.stdout.isTTY && process.stderr.isTTY);

async function runCommand(g: GlobalOptions, o: InputOptions, startOnly: boolean): Promise<number> {
  const input = workflowInput(o);
  const d = await resolveConfig(g);
  const client = clientFor(d, { api: true });
  const { abort, dispose } = interruptible();
  try {
    let started: Awaited<ReturnType<StepstreamClient["start"]>>;
    try {
      started = await client.start(input, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) {
        process.stderr.write("\ninterrupted before the execution was started\n");
        return EXIT.interrupted;
      }
      throw err;
    }
    if (startOnly) {
      if (g.json) process.stdout.write(`${JSON.stringify(started)}\n`);
      else {
        process.stdout.write(`${started.executionArn}\n`);
        process.stderr.write(pc.dim(`stream it: stepstream stream ${started.executionArn}\n`));
      }
      return EXIT.ok;
    }
    const expected = typeof input.count === "number" ? input.count : 5;
    const reporter = g.json ? jsonReporter() : humanReporter({ expected, live: live(g), verb: "started" });
    reporter.started(started.executionArn);
    const stream = client.stream(
      started.executionArn,
      { signal: abort.signal, onReconnect: (off, n) => reporter.reconnect(off, n) },
      d.streamUrl ?? started.lambdaResultURL,
    );
    return await follow(stream, abort, reporter);
  } finally {
    dispose();
  }
}

async function streamCommand(g: GlobalOptions, arn: string, from: string | undefined): Promise<number> {
  checkArn(arn);
  if (from !== undefined && !/^(-1|now|\d{16})$/.test(from)) {
    throw new UsageError(
      `--from ${from}: an offset is -1 (the beginning), now, or a 16-digit offset a stream printed`,
    );
  }
  const d = await resolveConfig(g);
  const client = clientFor(d, { stream: true });
  const { abort, dispose } = interruptible();
  try {
    const reporter = g.json
      ? jsonReporter()
      : humanReporter({ expected: null, live: live(g), numbered: from === undefined || from === "-1" });
    reporter.started(arn);
    const stream = client.stream(arn, {
      ...(from !== undefined ? { from } : {}),
      signal: abort.signal,
      onReconnect: (off, n) => reporter.reconnect(off, n),
    });
    return await follow(stream, abort, reporter);
  } finally {
    dispose();
  }
}

async function resultsCommand(g: GlobalOptions, arn: string): Promise<number> {
  checkArn(arn);
  const d = await resolveConfig(g);
  const client = clientFor(d, { stream: true });
  const { abort, dispose } = interruptible();
  const records: ResultRecord[] = [];
  let outcome: StreamOutcome | null = null;
  const stream = client.stream(arn, { from: "-1", signal: abort.signal });
  try {
    for await (const r of stream) {
      records.push(r);
      if (g.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    }
    outcome = await stream.outcome;
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    process.stderr.write(`\ninterrupted after ${records.length} records (the execution is still running?)\n`);
    return EXIT.interrupted;
  } finally {
    dispose();
  }
  if (g.json) {
    if (outcome.status !== "succeeded") process.stdout.write(`${JSON.stringify(outcome.terminal)}\n`);
  } else {
    printTable(outcome.status === "succeeded" ? records : [...records, outcome.terminal], outcome);
  }
  return outcome.status === "succeeded" ? EXIT.ok : EXIT.failed;
}

async function configCommand(g: GlobalOptions): Promise<number> {
  const d = await resolveConfig(g);
  const ok = Boolean(d.apiEndpoint || d.streamUrl);
  if (g.json) {
    process.stdout.write(
      `${JSON.stringify({
        apiEndpoint: d.apiEndpoint,
        streamUrl: d.streamUrl,
        region: d.region,
        credentials: d.credentials ? { accessKeyId: d.credentials.accessKeyId } : null,
        source: d.source,
        tried: d.tried,
      })}\n`,
    );
    return ok ? EXIT.ok : EXIT.usage;
  }
  const row = (k: string, v: string, from: string) =>
    `${pc.bold(k.padEnd(13))}${v}\n${" ".repeat(13)}${pc.dim(`from ${from}`)}\n`;
  const key = d.credentials
    ? `${d.credentials.accessKeyId.slice(0, 4)}…${d.credentials.accessKeyId.slice(-4)} (signed with SigV4)`
    : "none";
  process.stdout.write(
    row("API endpoint", d.apiEndpoint ?? pc.red("not found"), d.source.endpoints) +
      row(
        "stream URL",
        d.streamUrl ?? pc.yellow("not found (run takes it from the start answer)"),
        d.source.endpoints,
      ) +
      row("region", d.region, d.source.region) +
      row("credentials", key, d.source.credentials) +
      `${pc.bold("looked at")}\n${d.tried.map((t, i) => `  ${i + 1}. ${t}`).join("\n")}\n`,
  );
  return ok ? EXIT.ok : EXIT.usage;
}

const EXAMPLES = `
Examples:
  $ stepstream run                                  start the simulated workflow (5 results) and watch it
  $ stepstream run --count 20 --concurrency 4       20 results, 4 steps at a time
  $ stepstream run --fail-at 2                      step 2 fails: the stream ends with its error, exit 1
  $ stepstream run --input @input.json --json       input from a file, JSON Lines out (for scripts)
  $ stepstream start --count 3                      start only; prints the execution ARN
  $ stepstream stream <executionArn> --from 0000000000000002
                                                    resume a stream after the offset it stopped at
  $ stepstream results <executionArn>               the stored records, as a table
  $ stepstream config                               which endpoints and credentials will be used, and why
  $ stepstream local --definition my.asl.json --function MyStep=./dist/my-step.mjs
                                                    your own workflow on the local stack
                                                    (needs @stepstream/local; stepstream local --help)

Endpoints, first found wins:
${DISCOVERY_ORDER.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}
Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the local stack's
local_credentials from its outputs file, else requests are not signed.

Exit codes: 0 succeeded, 1 failed or timed out (or the service could not be reached),
2 usage error (bad flags, bad input, no endpoint found), 130 interrupted (Ctrl-C prints how to resume).
`;

export function program(): Command {
  const p = new Command("stepstream")
    .description("Start a stepstream workflow and watch its results stream in, from AWS or the local stack.")
    .version("0.1.0")
    .option("--api-endpoint <url>", "the start API (else STEPSTREAM_API_ENDPOINT, outputs files)")
    .option("--stream-url <url>", "the stream Function URL (else STEPSTREAM_STREAM_URL, outputs files)")
    .option("--outputs <file>", "a `terraform output -json` file to read the endpoints from")
    .option("--terraform-dir <dir>", "a Terraform root module to read the endpoints from (terraform output)")
    .option("--json", "JSON Lines on stdout only: no colour, no progress")
    .exitOverride()
    .showHelpAfterError("(stepstream --help shows usage and examples)")
    .addHelpText("after", EXAMPLES);

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions & InputOptions & { from?: string };

  addInputOptions(
    p.command("run").description("start a workflow and stream its results until the terminal record"),
  ).action(async (_o, cmd: Command) => {
    process.exitCode = await runCommand(globals(cmd), globals(cmd), false);
  });

  addInputOptions(p.command("start").description("start a workflow and print its execution ARN")).action(
    async (_o, cmd: Command) => {
      process.exitCode = await runCommand(globals(cmd), globals(cmd), true);
    },
  );

  p.command("stream")
    .description("stream an execution's results, live, until its terminal record")
    .argument("<executionArn>", "the execution to stream")
    .addOption(
      new Option("--from <offset>", "start after this offset (-1: the beginning, now: only new records)"),
    )
    .action(async (arn: string, _o, cmd: Command) => {
      process.exitCode = await streamCommand(globals(cmd), arn, globals(cmd).from);
    });

  p.command("results")
    .description("print an execution's stored records (read from the beginning to the terminal record)")
    .argument("<executionArn>", "the execution")
    .action(async (arn: string, _o, cmd: Command) => {
      process.exitCode = await resultsCommand(globals(cmd), arn);
    });

  p.command("local")
    .description("run the local stack (your own workflow with --definition); stepstream local --help")
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument("[options...]", "the local stack's options (stepstream local --help)")
    .action(async (_args: string[], _o, cmd: Command) => {
      process.exitCode = await localCommand(cmd.args);
    });

  p.command("config")
    .description("show which endpoints and credentials the CLI will use, and where it found them")
    .action(async (_o, cmd: Command) => {
      process.exitCode = await configCommand(globals(cmd));
    });
  return p;
}

/**
 * `stepstream local`: the local stack from `@stepstream/local`, an optional peer of the CLI (it
 * brings the emulators, which a CLI used against AWS does not need).
 */
async function localCommand(argv: string[]): Promise<number> {
  let runLocal: (argv: string[]) => Promise<number>;
  try {
    ({ runLocal } = (await import("@stepstream/local/cli")) as { runLocal: typeof runLocal });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw err;
    throw new UsageError(
      "stepstream local needs the local stack: npm install --save-dev @stepstream/local (beside @stepstream/cli)",
    );
  }
  return runLocal(argv);
}

function explain(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof DiscoveryError) {
    return {
      code: EXIT.usage,
      message: `${err.message}\nLooked at, in order:\n${err.tried.map((t, i) => `  ${i + 1}. ${t}`).join("\n")}`,
    };
  }
  if (err instanceof StepstreamClientError) {
    if (err.code === "BadRequest") return { code: EXIT.usage, message: err.message };
    if (err.code === "Forbidden") {
      return { code: EXIT.failed, message: `${err.message}\n(check the credentials: stepstream config)` };
    }
    if (err.code === "Network") {
      return {
        code: EXIT.failed,
        message: `${err.message}\n(is the stack up? make local starts the local one; stepstream config shows the endpoints)`,
      };
    }
    return { code: EXIT.failed, message: err.message };
  }
  return { code: EXIT.failed, message: (err as Error)?.message ?? String(err) };
}

async function main(argv: string[]): Promise<void> {
  const p = program();
  try {
    await p.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; any other command-line mistake is a usage error.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const { code, message } = explain(err);
    process.stderr.write(`${pc.red("error:")} ${message}\n`);
    process.exitCode = code;
  }
}

await main(process.argv);
