import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Packed, PUBLISHED, packAll, REPO } from "./support/packages.js";

// The packages as people get them: `pnpm pack` of each published package (what `pnpm publish`
// uploads), checked as tarballs, then installed with npm into a project outside the repository
// that runs a workflow of its own on the installed local stack and reads it with the installed
// client and CLI. Nothing in that project comes from the checkout but the tarballs.

let work: string;
let packed: Packed[];
const timings: Record<string, number> = {};
const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "stepstream-adoption-"));
  mkdirSync(join(work, "tarballs"));
  packed = await timed("pnpm pack ×5", () => packAll(join(work, "tarballs")));
}, 120_000);

afterAll(() => {
  console.log(`adoption test timings (ms): ${JSON.stringify(timings)}`);
  if (work) rmSync(work, { recursive: true, force: true });
});

const BUILTINS = new Set(builtinModules);
/**
 * Packages the AWS SDK bundled into the Lambda bundles names only in its error messages ("register the
 * package by calling [require("@aws-sdk/signature-v4-crt");]"): it never imports them (a user who needs
 * SigV4a registers one). The bundles' load test below shows they need no package at all.
 */
const MENTIONED_IN_SDK_MESSAGES = new Set(["@aws-sdk/signature-v4-crt", "@aws-sdk/signature-v4a"]);
/** Bare module specifiers a file imports (static, dynamic, re-exports, require). */
function bareImports(source: string): Set<string> {
  const found = new Set<string>();
  const patterns = [
    /(?:^|[;\n}])\s*import\s*["']([^"'./][^"']*)["']/g,
    /\bfrom\s*["']([^"'./][^"']*)["']/g,
    /\bimport\s*\(\s*["']([^"'./][^"']*)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"'./][^"']*)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) found.add(m[1] as string);
  const names = new Set<string>();
  const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*(\/[^\s]*)?$/;
  for (const spec of found) {
    if (!PACKAGE_NAME.test(spec)) continue;
    if (spec.startsWith("node:") || BUILTINS.has(spec.split("/")[0] as string)) continue;
    names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : (spec.split("/")[0] as string));
  }
  return names;
}

/** Paths an `exports` map points at. */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === "string") return [exports];
  if (exports === null || typeof exports !== "object") return [];
  return Object.values(exports).flatMap(exportTargets);
}

const FORBIDDEN =
  /^(src|tests?|scripts|coverage)\/|(^|\/)\.turbo\/|\.map$|\.zip$|\.test\.|(^|\/)(tsconfig[^/]*\.json|tsup\.config\.ts|vitest\.config\.ts|turbo\.json|vite\.config\.ts)$/;

describe("the published packages, as tarballs", () => {
  it("packs exactly the five packages people install", () => {
    expect(packed.map((p) => p.name).sort()).toEqual(Object.keys(PUBLISHED).sort());
    for (const p of packed)
      console.log(`${p.name}: ${p.bytes} bytes, ${p.entries.map((e) => e.path).join(" ")}`);
  });

  it("are publishable: not private, semver 0.x, no workspace: ranges, a README, a files list", () => {
    for (const { name, manifest, entries } of packed) {
      expect(manifest.private, name).toBeUndefined();
      expect(manifest.version, name).toMatch(/^0\.\d+\.\d+$/);
      expect(JSON.stringify(manifest), name).not.toContain("workspace:");
      expect(Array.isArray(manifest.files), name).toBe(true);
      expect(
        entries.map((e) => e.path),
        name,
      ).toEqual(expect.arrayContaining(["package.json", "README.md"]));
    }
  });

  it("carry no sources, tests, source maps, build logs or build configuration", () => {
    for (const { name, entries } of packed) {
      expect(
        entries.map((e) => e.path).filter((p) => FORBIDDEN.test(p)),
        name,
      ).toEqual([]);
    }
  });

  it("hold every file their exports (with types) and bin point at; the bin is an executable node script", () => {
    for (const { name, manifest, entries } of packed) {
      const paths = new Set(entries.map((e) => e.path));
      const targets = exportTargets(manifest.exports);
      // A library has an exports map; the CLI is a command (bin) and exports nothing.
      if (!manifest.bin) expect(targets.length, name).toBeGreaterThan(0);
      for (const t of targets) expect(paths.has(t.replace(/^\.\//, "")), `${name} exports ${t}`).toBe(true);
      const conditions = Object.values((manifest.exports ?? {}) as Record<string, unknown>);
      for (const c of conditions) {
        if (
          typeof c === "object" &&
          c !== null &&
          "import" in c &&
          String((c as { import: string }).import).endsWith(".js")
        )
          expect(c, `${name}: every JS export has types`).toHaveProperty("types");
      }
      for (const bin of Object.values((manifest.bin ?? {}) as Record<string, string>)) {
        const entry = entries.find((e) => e.path === bin.replace(/^\.\//, ""));
        expect(entry, `${name} bin ${bin}`).toBeDefined();
        expect(entry?.content.subarray(0, 20).toString(), `${name} bin ${bin}`).toMatch(
          /^#!\/usr\/bin\/env node\n/,
        );
        expect((entry?.mode ?? 0) & 0o111, `${name} bin ${bin} is executable`).not.toBe(0);
      }
    }
    const cli = packed.find((p) => p.name === "@stepstream/cli");
    expect(cli?.manifest.bin).toEqual({ stepstream: "./dist/main.js" });
  });

  it("declare every package their code imports as a dependency (or peer), and each other at the packed version", () => {
    const versions = Object.fromEntries(packed.map((p) => [p.name, p.manifest.version]));
    for (const { name, manifest, entries } of packed) {
      const deps = (manifest.dependencies ?? {}) as Record<string, string>;
      const peers = (manifest.peerDependencies ?? {}) as Record<string, string>;
      const imported = new Set<string>();
      for (const e of entries) {
        if (!/\.(m?js|d\.ts)$/.test(e.path)) continue;
        for (const n of bareImports(e.content.toString("utf8"))) imported.add(n);
      }
      const undeclared = [...imported].filter(
        (n) => n !== name && !(n in deps) && !(n in peers) && !MENTIONED_IN_SDK_MESSAGES.has(n),
      );
      expect(undeclared, `${name} imports without declaring`).toEqual([]);
      for (const [dep, range] of Object.entries({ ...deps, ...peers })) {
        if (dep in versions) expect(range, `${name} → ${dep}`).toBe(versions[dep]);
      }
    }
  });

  it("ship Lambda bundles that carry their own dependencies: each loads with no node_modules at all", async () => {
    const local = packed.find((p) => p.name === "@stepstream/local");
    const bundles = (local?.entries ?? []).filter((e) => /^dist\/assets\/[^/]+\/index\.mjs$/.test(e.path));
    expect(bundles.map((b) => b.path).sort()).toEqual([
      "dist/assets/steps/index.mjs",
      "dist/assets/streamer/index.mjs",
    ]);
    // A directory with no node_modules anywhere above it: a bare import would fail to resolve here.
    const bare = mkdtempSync(join(tmpdir(), "stepstream-bare-bundle-"));
    try {
      for (const b of bundles) {
        const file = join(bare, b.path.replaceAll("/", "-"));
        writeFileSync(file, b.content);
        const script = `globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
const m = await import(${JSON.stringify(pathToFileURL(file).href)});
if (typeof m.handler !== "function") throw new Error("no handler export");`;
        const ran = await exec(process.execPath, ["--input-type=module", "-e", script], bare, {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          TABLE_NAME: "stepstream-results",
          STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:x",
          POWERTOOLS_LOG_LEVEL: "ERROR",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        });
        // The tail of stderr only: a minified bundle's error line is the whole bundle.
        expect({ code: ran.code, stderr: ran.stderr.slice(-1500) }, b.path).toEqual({ code: 0, stderr: "" });
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** The environment of a user's shell: no AWS, stepstream or pnpm/npm-run variables. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|STEPSTREAM_|npm_|PNPM_|pnpm_|TURBO_|VITEST|FORCE_COLOR|NODE_OPTIONS$)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
const exec = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 60_000) =>
  new Promise<Ran>((resolvePromise) =>
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolvePromise({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

const PRODUCER = `import { putResult } from "@stepstream/steps";

const log = { tableName: process.env.TABLE_NAME, resultTtlDays: Number(process.env.RESULT_TTL_DAYS) };

// Streams a text as a model streams tokens: one record per word, then the final record.
export const handler = async ({ executionArn, text }) => {
  const words = text.split(" ");
  for (const [i, word] of words.entries()) {
    await putResult({ executionArn, recordKey: \`word-\${i}\`, result: { word } }, log);
  }
  await putResult({ executionArn, recordKey: "done", type: "final", result: { words: words.length } }, log);
  return { words: words.length };
};
`;

const DEFINITION = {
  Comment: "My workflow: one Lambda that streams its words.",
  StartAt: "Produce",
  States: {
    Produce: {
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: {
        FunctionName: "Producer",
        Payload: { "executionArn.$": "$$.Execution.Id", "text.$": "$.text" },
      },
      End: true,
    },
  },
};

const READER = `import { readFileSync } from "node:fs";
import { StepstreamClient } from "@stepstream/client";

const outputs = JSON.parse(readFileSync(".local/outputs.json", "utf8"));
const client = new StepstreamClient({
  apiEndpoint: outputs.api_endpoint.value,
  streamUrl: outputs.stream_url.value,
  credentials: outputs.local_credentials.value,
});
const run = await client.run({ text: process.argv[2] });
for await (const record of run) console.log(JSON.stringify(record));
const { status } = await run.outcome;
console.log(JSON.stringify({ status, executionArn: run.executionArn }));
`;

describe("outside the repository: install the tarballs, run your own workflow, read it back", () => {
  let project: string;
  let elsewhere: string;
  let env: NodeJS.ProcessEnv;
  let stack: ChildProcess | undefined;
  let stackOut = "";
  let executionArn = "";
  const bin = () => join(project, "node_modules/.bin/stepstream");
  const userConfig = () => join(project, ".config/stepstream/local.json");

  beforeAll(async () => {
    project = join(work, "my-workflow");
    elsewhere = join(work, "elsewhere");
    mkdirSync(join(project, "steps"), { recursive: true });
    mkdirSync(elsewhere);
    env = userEnv({
      XDG_CONFIG_HOME: join(project, ".config"),
      PATH: `${join(project, "node_modules/.bin")}:${process.env.PATH}`,
    });
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify({ name: "my-workflow", private: true, type: "module" })}\n`,
    );
    // npm, as a user installs: the tarballs, and their dependencies from the cache or the registry.
    const installed = await timed("npm install", () =>
      exec(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--prefer-offline",
          "--loglevel=error",
          ...packed.map((p) => p.file),
        ],
        project,
        env,
        240_000,
      ),
    );
    if (installed.code !== 0) throw new Error(`npm install failed: ${installed.stderr}`);
    writeFileSync(join(project, "steps/producer.mjs"), PRODUCER);
    writeFileSync(join(project, "my.asl.json"), `${JSON.stringify(DEFINITION, null, 2)}\n`);
    writeFileSync(join(project, "read.mjs"), READER);

    // `npx stepstream local …`, by its bin path so that the test can signal the stack itself.
    await timed("stepstream local start", async () => {
      stack = spawn(
        bin(),
        [
          "local",
          "--definition",
          "my.asl.json",
          "--function",
          "Producer=./steps/producer.mjs",
          "--memory",
          "--port",
          "0",
        ],
        { cwd: project, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      await new Promise<void>((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`the stack did not start: ${stackOut}`)), 60_000);
        const onData = (c: Buffer) => {
          stackOut += c.toString();
          if (stackOut.includes("Press Ctrl-C to stop.")) {
            clearTimeout(timer);
            resolvePromise();
          }
        };
        stack?.stdout?.on("data", onData);
        stack?.stderr?.on("data", onData);
        stack?.on("exit", (code) => reject(new Error(`the stack exited (${code}): ${stackOut}`)));
      });
    });
  }, 300_000);

  afterAll(() => {
    if (stack && stack.exitCode === null) stack.kill("SIGKILL");
  });

  it("installs nothing from the checkout: every @stepstream package is a copy inside the project", () => {
    expect(relative(REPO, project).startsWith("..")).toBe(true);
    for (const name of Object.keys(PUBLISHED)) {
      const dir = realpathSync(join(project, "node_modules", name));
      expect(dir.startsWith(join(project, "node_modules")), dir).toBe(true);
    }
    expect(existsSync(join(project, "node_modules/@stepstream/streamer"))).toBe(false);
  });

  it("stepstream --help runs as a bare command", async () => {
    const ran = await exec("stepstream", ["--help"], elsewhere, env);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^Usage: stepstream/);
    expect(ran.stdout).toContain("local");
  });

  it("runs the project's own definition and handler, read with the installed client", async () => {
    const ran = await timed("client run", () => exec("node", ["read.mjs", "one two three"], project, env));
    expect(ran.stderr).toBe("");
    const lines = ran.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = lines.pop() as { status: string; executionArn: string };
    executionArn = last.executionArn;
    expect(last.status).toBe("succeeded");
    expect(lines.map((r) => r.Result)).toEqual([
      { word: "one" },
      { word: "two" },
      { word: "three" },
      { words: 3 },
    ]);
    expect(lines.map((r) => r.Offset)).toEqual(["0", "1", "2", "3"].map((n) => n.padStart(16, "0")));
    expect(stackOut).toContain("Producer (arn:aws:lambda:us-east-1:000000000000:function:Producer)");
  });

  it("reads the results with the installed CLI from another directory (the stack's user-level file)", async () => {
    const config = await exec("stepstream", ["config", "--json"], elsewhere, env);
    const results = await timed("cli results", () =>
      exec("stepstream", ["results", executionArn, "--json"], elsewhere, env),
    );

    expect(JSON.parse(config.stdout).source.endpoints).toBe(userConfig());
    expect(results.code).toBe(0);
    const records = results.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { Result: unknown; Type: string });
    expect(records.map((r) => r.Result)).toEqual([
      { word: "one" },
      { word: "two" },
      { word: "three" },
      { words: 3 },
    ]);
    expect(records.at(-1)?.Type).toBe("final");
  });

  it("stops on SIGTERM and removes its user-level file, so that nothing points at a dead stack", async () => {
    expect(JSON.parse(readFileSync(userConfig(), "utf8")).pid).toBe(stack?.pid);
    const exited = new Promise<number | null>((r) => stack?.on("exit", (code) => r(code)));
    stack?.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(userConfig())).toBe(false);
    const config = await exec("stepstream", ["config", "--json"], elsewhere, env);
    expect(config.code).toBe(2);
    expect(JSON.parse(config.stdout).tried.at(-1)).toMatch(/local\.json: not found/);
  });
});
