import { type ChildProcess, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type LocalStack, startStack } from "@stepstream/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The CLI as a user runs it: `node apps/cli/dist/main.js …` in its own process, against a local
// stack (real DynamoDB emulator, ASL interpreter, SigV4-verifying front ends) started here.

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../dist/main.js");
const SIMULATED = (i: number) => `This is simulated result ${i}`;

let stack: LocalStack;
let dir: string;
let outputs: string;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a user's shell with no AWS or stepstream variables. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("AWS_") || k.startsWith("STEPSTREAM_") || k === "FORCE_COLOR") continue;
    env[k] = v;
  }
  // A user-level file of its own: never the one a `make local` of this machine wrote.
  return { ...env, NO_COLOR: "1", XDG_CONFIG_HOME: join(dir, "xdg"), ...extra };
}

function spawnCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? dir,
    env: opts.env ?? cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function collect(child: ChildProcess): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolvePromise) =>
    child.on("close", (code) => resolvePromise({ code, stdout, stderr })),
  );
}

const cli = (args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  collect(spawnCli(args, opts));
const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stepstream-cli-"));
  outputs = join(dir, "outputs.json");
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: outputs,
    stepWaitMs: 50,
    streamer: { pollIntervalMs: 20, maxPollIntervalMs: 100 },
  });
});

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("stepstream run", () => {
  it("streams the 5 results as 5 JSON lines and exits 0", async () => {
    // Act
    const ran = await cli(["run", "--outputs", outputs, "--json"]);

    // Assess
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    const lines = jsonLines(ran.stdout);
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.Result)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
    expect(lines.map((l) => l.Type)).toEqual(["result", "result", "result", "result", "final"]);
    expect(lines[4]?.FinalResult).toBe(true);
    expect(new Set(lines.map((l) => l.ExecutionArn)).size).toBe(1);
    const offsets = lines.map((l) => l.Offset as string);
    expect([...offsets].sort()).toEqual(offsets);
    expect(new Set(offsets).size).toBe(5);
  });

  it("prints each record and the terminal status for a person (no TTY: no progress bar)", async () => {
    const ran = await cli(["run", "--outputs", outputs, "--count", "3"]);

    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^started arn:aws:states:/);
    for (const i of [0, 1, 2]) expect(ran.stdout).toContain(SIMULATED(i));
    expect(ran.stdout.trimEnd().split("\n").at(-1)).toMatch(/succeeded\s+3 results/);
    expect(ran.stdout).not.toContain("\x1b["); // no colour, no cursor moves
  });

  it("exits 1 with the error record when a step fails (--fail-at 2)", async () => {
    const ran = await cli(["run", "--outputs", outputs, "--fail-at", "2", "--json"]);

    expect(ran.code).toBe(1);
    const lines = jsonLines(ran.stdout);
    expect(lines.slice(0, 2).map((l) => l.Result)).toEqual([SIMULATED(0), SIMULATED(1)]);
    const last = lines.at(-1) as { Type: string; Error: { Error: string; Cause: string } };
    expect(last.Type).toBe("error");
    expect(last.Error.Cause).toContain("failAt=2");
    expect(lines.some((l) => l.Result === SIMULATED(2))).toBe(false);

    const human = await cli(["run", "--outputs", outputs, "--fail-at", "0"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/failed\s+after 0 results/);
  });

  it("takes its input from --input JSON and @file, with the shorthand flags on top", async () => {
    const file = join(dir, "input.json");
    writeFileSync(file, JSON.stringify({ count: 4, concurrency: 2 }));

    const fromFile = await cli([
      "run",
      "--outputs",
      outputs,
      "--input",
      `@${file}`,
      "--count",
      "2",
      "--json",
    ]);
    const inline = await cli(["run", "--outputs", outputs, "--input", '{"count":3}', "--json"]);

    expect(fromFile.code).toBe(0);
    expect(jsonLines(fromFile.stdout)).toHaveLength(2);
    expect(inline.code).toBe(0);
    expect(jsonLines(inline.stdout)).toHaveLength(3);
  });

  it.each([
    [["run", "--count", "0"], /--count must be a whole number from 1 to 1000/],
    [["run", "--count", "abc"], /--count must be a whole number/],
    [["run", "--input", "{nope"], /--input is not valid JSON/],
    [["run", "--input", "[1,2]"], /must be a JSON object/],
    [["run", "--input", "@/nonexistent/input.json"], /cannot read/],
    [["run", "--fail-at", "5"], /--fail-at 5 is not a step of this run/],
    [["run", "--unknown-flag"], /unknown option/],
    [["frobnicate"], /unknown command/],
    [["stream"], /missing required argument/],
    [
      ["stream", "not-an-arn"],
      /^error: "not-an-arn" is not a Step Functions execution ARN \(arn:aws:states:[^()]*\)\n$/,
    ],
    [["stream", "arn:aws:states:us-east-1:000000000000:express:m:e:x", "--from", "abc"], /--from abc/],
    [[], /Usage: stepstream/],
  ])("exits 2 on a usage error: %j", async (args, message) => {
    const ran = await cli(args.length > 0 ? [...args, "--outputs", outputs] : []);

    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(message);
    expect(ran.stdout).toBe("");
  });

  it("exits 2 when the API's request model rejects the input", async () => {
    const ran = await cli(["run", "--outputs", outputs, "--input", JSON.stringify({ concurency: 3 })]);

    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/Invalid request body/);
  });

  it("exits 1 when the workflow's Plan step refuses the run (too long): it started, and its stream ends with the error", async () => {
    // The request model checks each field; only the Plan step can add up a run's length (issue 11 item 6).
    const ran = await cli(["run", "--outputs", outputs, "--count", "1000", "--step-wait", "60"]);

    expect(ran.code).toBe(1);
    expect(`${ran.stdout}${ran.stderr}`).toMatch(/Express workflows end at 300 s/);
  });

  it("prints --help with examples and the discovery order, exit 0", async () => {
    const ran = await cli(["--help"]);

    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain("Examples:");
    expect(ran.stdout).toContain("stepstream run --fail-at 2");
    expect(ran.stdout).toMatch(
      /1\. flags --api-endpoint[\s\S]*2\. environment[\s\S]*3\. --outputs[\s\S]*4\. terraform[\s\S]*5\. \.local\/outputs\.json/,
    );
  });
});

describe("stepstream start, stream --from, results", () => {
  it("resumes a stream after Ctrl-C from the offset it printed, without a duplicate or a gap", async () => {
    // Prepare: a run slow enough to interrupt.
    const started = await cli([
      "start",
      "--outputs",
      outputs,
      "--count",
      "5",
      "--step-duration",
      "400",
      "--json",
    ]);
    expect(started.code).toBe(0);
    const { executionArn } = JSON.parse(started.stdout) as { executionArn: string };

    // Act: stream until 2 records are in, then Ctrl-C.
    const child = spawnCli(["stream", executionArn, "--outputs", outputs, "--json"]);
    const done = collect(child);
    let seen = "";
    await new Promise<void>((resolvePromise) => {
      child.stdout?.on("data", (c: Buffer) => {
        seen += c.toString();
        if (jsonLines(seen).length >= 2) resolvePromise();
      });
    });
    child.kill("SIGINT");
    const first = await done;

    // Assess: a clean stop that says how to resume.
    expect(first.code).toBe(130);
    const before = jsonLines(first.stdout);
    const last = before.at(-1)?.Offset as string;
    expect(first.stderr).toContain(`stepstream stream ${executionArn} --from ${last}`);

    const resumed = await cli(["stream", executionArn, "--from", last, "--outputs", outputs, "--json"]);
    expect(resumed.code).toBe(0);
    const after = jsonLines(resumed.stdout);
    const all = [...before, ...after];
    expect(all.map((l) => l.Result)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
    expect(new Set(all.map((l) => l.Offset)).size).toBe(5);
  });

  it("prints the stored records as a table, or as JSON Lines", async () => {
    const started = await cli(["start", "--outputs", outputs]);
    expect(started.code).toBe(0);
    const executionArn = started.stdout.trim();
    expect(executionArn).toMatch(/^arn:aws:states:[^:]+:\d{12}:express:/);

    // `results` is a snapshot: wait for the end by following the stream first.
    expect((await cli(["stream", executionArn, "--outputs", outputs, "--json"])).code).toBe(0);

    const table = await cli(["results", executionArn, "--outputs", outputs]);
    const json = await cli(["results", executionArn, "--outputs", outputs, "--json"]);

    expect(table.code).toBe(0);
    const rows = table.stdout.split("\n");
    expect(rows[0]).toMatch(/^#\s+OFFSET\s+TYPE\s+KEY\s+WRITTEN \(UTC\)\s+RESULT$/);
    for (const i of [0, 1, 2, 3, 4]) {
      expect(rows[i + 1]).toMatch(
        new RegExp(`^${i}\\s+\\d{16}\\s+(result|final)\\s+result-${i}\\s+.*${SIMULATED(i)}$`),
      );
    }
    expect(table.stdout).toMatch(/5 results, status succeeded/);
    expect(json.code).toBe(0);
    expect(jsonLines(json.stdout).map((l) => l.Result)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
  });

  it("results of a run still going: what is stored now, says so, and does not wait", async () => {
    const started = await cli(["start", "--outputs", outputs, "--count", "2", "--step-wait", "5"]);
    expect(started.code).toBe(0);
    const t0 = Date.now();
    const early = await cli(["results", started.stdout.trim(), "--outputs", outputs]);
    expect(early.code).toBe(0);
    expect(early.stderr).toMatch(/the run is still going/);
    expect(Date.now() - t0).toBeLessThan(5000); // answered before the first step's 5 s wait ended
  });

  it("shows a failed execution's error row in results and exits 1", async () => {
    const started = await cli(["start", "--outputs", outputs, "--count", "3", "--fail-at", "1"]);
    expect((await cli(["stream", started.stdout.trim(), "--outputs", outputs, "--json"])).code).toBe(1);
    const table = await cli(["results", started.stdout.trim(), "--outputs", outputs]);

    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/error\s+\S+\s+.*failAt=1/);
    expect(table.stdout).toMatch(/1 results, status failed/);
  });
});

describe("endpoint discovery", () => {
  it("says which places it tried when no endpoint is found (exit 2)", async () => {
    const empty = mkdtempSync(join(tmpdir(), "stepstream-empty-"));
    try {
      const ran = await cli(["run"], { cwd: empty });

      expect(ran.code).toBe(2);
      expect(ran.stderr).toContain("no API endpoint found");
      expect(ran.stderr).toMatch(/1\. flags --api-endpoint \/ --stream-url: not given/);
      expect(ran.stderr).toMatch(/2\. environment STEPSTREAM_API_ENDPOINT \/ STEPSTREAM_STREAM_URL: not set/);
      expect(ran.stderr).toMatch(/3\. --outputs FILE: not given/);
      expect(ran.stderr).toMatch(/4\. terraform -chdir=\S+ output -json: /);
      expect(ran.stderr).toMatch(/5\. \S+\.local\/outputs\.json: not found/);
      expect(ran.stderr).toMatch(/6\. \S+\/stepstream\/local\.json: not found/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("refuses a missing --outputs file (exit 2)", async () => {
    const ran = await cli(["run", "--outputs", join(dir, "missing.json")]);

    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/--outputs .*missing\.json: no such file/);
  });

  it("finds .local/outputs.json from a subdirectory, and signs with its local_credentials", async () => {
    const project = mkdtempSync(join(tmpdir(), "stepstream-project-"));
    try {
      mkdirSync(join(project, ".local"));
      mkdirSync(join(project, "sub/deeper"), { recursive: true });
      copyFileSync(outputs, join(project, ".local/outputs.json"));

      const config = await cli(["config", "--json"], { cwd: join(project, "sub/deeper") });
      const ran = await cli(["run", "--count", "2", "--json"], { cwd: join(project, "sub/deeper") });

      expect(config.code).toBe(0);
      const c = JSON.parse(config.stdout) as { apiEndpoint: string; source: Record<string, string> };
      expect(c.apiEndpoint).toBe(stack.apiEndpoint);
      expect(c.source.endpoints).toBe(join(project, ".local/outputs.json"));
      expect(c.source.credentials).toBe(`local_credentials in ${join(project, ".local/outputs.json")}`);
      expect(ran.code).toBe(0);
      expect(jsonLines(ran.stdout)).toHaveLength(2);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("reads terraform output -json when terraform is on PATH and infra/ has state, before .local/outputs.json", async () => {
    // Prepare: a project with deployed state, and a `terraform` that answers `output -json` with the
    // outputs of this test's stack (standing in for AWS); .local/outputs.json points elsewhere.
    const project = mkdtempSync(join(tmpdir(), "stepstream-tf-"));
    try {
      mkdirSync(join(project, "infra"));
      mkdirSync(join(project, ".local"));
      mkdirSync(join(project, "bin"));
      writeFileSync(join(project, "infra/main.tf"), "");
      writeFileSync(join(project, "infra/terraform.tfstate"), "{}");
      writeFileSync(
        join(project, ".local/outputs.json"),
        JSON.stringify({
          api_endpoint: { value: "http://127.0.0.1:9/" },
          stream_url: { value: "http://127.0.0.1:9/" },
        }),
      );
      const tf = join(project, "bin/terraform");
      writeFileSync(
        tf,
        `#!/bin/sh\n[ "$1" = "-chdir=${join(project, "infra")}" ] && [ "$2" = output ] && [ "$3" = -json ] && exec cat ${outputs}\nexit 1\n`,
        { mode: 0o755 },
      );
      const creds = stack.credentials as { accessKeyId: string; secretAccessKey: string };
      const env = cleanEnv({
        PATH: `${join(project, "bin")}:${process.env.PATH}`,
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      });

      const config = await cli(["config", "--json"], { cwd: project, env });
      const ran = await cli(["run", "--count", "2", "--json"], { cwd: project, env });

      const c = JSON.parse(config.stdout) as {
        apiEndpoint: string;
        source: Record<string, string>;
        tried: string[];
      };
      expect(c.apiEndpoint).toBe(stack.apiEndpoint);
      expect(c.source.endpoints).toBe("terraform output (infra/)");
      expect(c.tried.at(-1)).toMatch(/terraform -chdir=.* output -json: found/);
      expect(ran.code).toBe(0);
      expect(jsonLines(ran.stdout)).toHaveLength(2);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("reads terraform output -json of --terraform-dir (your root module, client_config under any name)", async () => {
    // Prepare: your own root module that re-exports the module's client_config as `stepstream`, and
    // a `terraform` that answers for that directory only.
    const project = mkdtempSync(join(tmpdir(), "stepstream-tfdir-"));
    try {
      mkdirSync(join(project, "deploy/prod"), { recursive: true });
      mkdirSync(join(project, "bin"));
      const clientConfig = JSON.parse(readFileSync(outputs, "utf8")).client_config.value;
      writeFileSync(
        join(project, "tf-output.json"),
        JSON.stringify({ stepstream: { value: clientConfig, type: ["object", {}], sensitive: false } }),
      );
      writeFileSync(
        join(project, "bin/terraform"),
        `#!/bin/sh\n[ "$1" = "-chdir=${join(project, "deploy/prod")}" ] && [ "$2" = output ] && exec cat ${join(project, "tf-output.json")}\n[ "$2" = output ] && { echo '{}'; exit 0; }\nexit 1\n`,
        { mode: 0o755 },
      );
      const creds = stack.credentials as { accessKeyId: string; secretAccessKey: string };
      const env = cleanEnv({
        PATH: `${join(project, "bin")}:${process.env.PATH}`,
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      });

      const config = await cli(["config", "--json", "--terraform-dir", "deploy/prod"], { cwd: project, env });
      const ran = await cli(["run", "--count", "1", "--json", "--terraform-dir", "deploy/prod"], {
        cwd: project,
        env,
      });
      const empty = await cli(["config", "--terraform-dir", "bin"], { cwd: project, env });

      const c = JSON.parse(config.stdout) as { apiEndpoint: string; source: Record<string, string> };
      expect(c.apiEndpoint).toBe(stack.apiEndpoint);
      expect(c.source.endpoints).toBe("terraform output (deploy/prod)");
      expect(ran.code).toBe(0);
      expect(jsonLines(ran.stdout)).toHaveLength(1);
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(
        /--terraform-dir bin: no api_endpoint \/ stream_url \/ client_config output/,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("finds a running local stack from any directory by its user-level file, and ignores a dead one's", async () => {
    // Prepare: the file a running stack writes (this test's process stands for it), then the same
    // file left behind by a process that has exited.
    const xdg = mkdtempSync(join(tmpdir(), "stepstream-xdg-"));
    const empty = mkdtempSync(join(tmpdir(), "stepstream-anywhere-"));
    try {
      mkdirSync(join(xdg, "stepstream"));
      const file = join(xdg, "stepstream/local.json");
      const body = (pid: number) =>
        JSON.stringify({
          pid,
          startedAt: "2026-12-01T00:00:00.000Z",
          outputs: JSON.parse(readFileSync(outputs, "utf8")),
        });
      writeFileSync(file, body(process.pid));
      const env = cleanEnv({ XDG_CONFIG_HOME: xdg });

      const live = await cli(["run", "--count", "1", "--json"], { cwd: empty, env });
      const dead = spawn(process.execPath, ["-e", ""]);
      await new Promise((r) => dead.on("exit", r));
      writeFileSync(file, body(dead.pid as number));
      const stale = await cli(["config", "--json"], { cwd: empty, env });

      expect(live.code).toBe(0);
      expect(jsonLines(live.stdout)).toHaveLength(1);
      expect(stale.code).toBe(2);
      const tried = (JSON.parse(stale.stdout) as { tried: string[] }).tried;
      expect(tried.at(-1)).toMatch(
        new RegExp(
          `local\\.json: stale: the local stack that wrote it \\(pid ${dead.pid}, .*\\) is not running; ignored`,
        ),
      );
    } finally {
      rmSync(xdg, { recursive: true, force: true });
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("prefers flags over environment over files, and AWS_* credentials over local_credentials", async () => {
    const creds = stack.credentials;
    if (!creds) throw new Error("the stack should verify SigV4");
    const env = cleanEnv({
      STEPSTREAM_API_ENDPOINT: "http://127.0.0.1:9/",
      STEPSTREAM_STREAM_URL: stack.streamUrl,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    });

    const config = await cli(
      ["config", "--json", "--api-endpoint", stack.apiEndpoint, "--outputs", outputs],
      { env },
    );
    const ran = await cli(["run", "--count", "1", "--json", "--api-endpoint", stack.apiEndpoint], { env });

    const c = JSON.parse(config.stdout) as {
      apiEndpoint: string;
      streamUrl: string;
      source: Record<string, string>;
    };
    expect(c.apiEndpoint).toBe(stack.apiEndpoint);
    expect(c.streamUrl).toBe(stack.streamUrl);
    expect(c.source.endpoints).toBe("flags + environment");
    expect(c.source.credentials).toMatch(/^environment AWS_ACCESS_KEY_ID/);
    expect(ran.code).toBe(0);
    expect(jsonLines(ran.stdout)).toHaveLength(1);
  });

  it("exits 1 and points at the credentials when the stack refuses the signature", async () => {
    const env = cleanEnv({ AWS_ACCESS_KEY_ID: "AKIAWRONGWRONGWRONG1", AWS_SECRET_ACCESS_KEY: "wrong" });

    const ran = await cli(["run", "--outputs", outputs], { env });

    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/credentials: stepstream config/);
  });

  it("prints what config found, for a person", async () => {
    const ran = await cli(["config", "--outputs", outputs]);

    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/API endpoint\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(ran.stdout).toMatch(/credentials\s+AKIA…\w{4} \(signed with SigV4\)/);
    expect(ran.stdout).toContain("looked at");
  });
});

describe("an endpoint where nothing listens", () => {
  it("fails at once with a message naming the endpoint: no 31 s of retries, no MaxListenersExceededWarning", async () => {
    // Prepare: a port that was just free (a stopped local stack).
    const { createServer } = await import("node:net");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const url = `http://127.0.0.1:${port}/`;
    const arn = "arn:aws:states:us-east-1:000000000000:express:m:e:x";
    // Act
    const t0 = Date.now();
    const streamed = await cli(["stream", arn, "--stream-url", url, "--api-endpoint", url]);
    const ran = await cli(["run", "--stream-url", url, "--api-endpoint", url]);
    // Assess
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(streamed.code).toBe(1);
    expect(streamed.stderr).toContain(
      `could not reach the stream URL http://127.0.0.1:${port}: connection refused (nothing listens there)`,
    );
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`could not reach http://127.0.0.1:${port}: connection refused`);
    for (const r of [streamed, ran]) expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|Warning:/);
  });
});
