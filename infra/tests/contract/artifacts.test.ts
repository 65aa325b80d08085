// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Terraform expressions as hcl2json returns them.
/**
 * The HCL deploys the very artifacts `make build` produces: the zip paths exist after the build and
 * hold one `index.mjs` that exports the configured handler, and every environment variable Terraform
 * sets is one the bundle reads. Turbo runs `build` before `test`, so the zips are there.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { inflateRawSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { INFRA_DIR, loadRealModules, nested, REPO_DIR } from "./hcl.js";

const real = await loadRealModules();
const root = real.find((m) => m.name === ".");
const workflow = real.find((m) => m.name === "modules/workflow");
const streamUrl = real.find((m) => m.name === "modules/stream-url");
const lambda = real.find((m) => m.name === "modules/lambda");
const localsOf = (m: typeof root) =>
  Object.assign({}, ...(m?.files.flatMap((f) => f.json.locals ?? []) ?? []));

/** Reads a zip's entries (central directory), inflating each. No dependency needed. */
function readZip(path: string): Map<string, Buffer> {
  const buf = readFileSync(path);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${path} is not a zip (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${path}: bad central directory entry`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString("utf8");
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + compressed);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

const EXPORTS_HANDLER =
  /export\s*\{[^}]*\b(?:as\s+)?handler\b[^}]*\}|export\s+(?:const|let|var|async\s+function|function)\s+handler\b/;

/** What is wrong with a Lambda zip for handler `index.handler` and the given environment (empty: nothing). */
function bundleProblems(zipPath: string, envVars: string[]): string[] {
  if (!existsSync(zipPath)) return [`${zipPath} is missing: run \`make build\` first`];
  const entries = readZip(zipPath);
  const problems: string[] = [];
  if ([...entries.keys()].join(",") !== "index.mjs")
    problems.push(`holds ${[...entries.keys()].join(", ")}, not exactly index.mjs`);
  const code = entries.get("index.mjs")?.toString("utf8") ?? "";
  if (!EXPORTS_HANDLER.test(code)) problems.push("index.mjs does not export `handler`");
  for (const v of envVars)
    if (!code.includes(v)) problems.push(`${v} is set by Terraform but not read by the bundle`);
  return problems;
}

// The environment each bundle is given: the steps get the results table's (every function the
// workflow deploys) plus MAX_CONCURRENCY when a reservation is set; the streamer gets its own.
const stepsEnv = [...Object.keys(localsOf(workflow).results_environment ?? {}), "MAX_CONCURRENCY"];
const streamerEnv = Object.keys(streamUrl?.moduleCalls.get("lambda")?.environment ?? {});

const artifacts = [
  { name: "steps", rootVariable: "steps_zip_path", env: stepsEnv, built: "packages/steps/dist/steps.zip" },
  {
    name: "streamer",
    rootVariable: "streamer_zip_path",
    env: streamerEnv,
    built: "packages/streamer/dist/streamer.zip",
  },
];

describe.each(artifacts)("$name Lambda artifact", (a) => {
  const zipPath = resolve(INFRA_DIR, String(root?.variables.get(a.rootVariable)));

  test("the root points at the zip `make build` produces", () => {
    expect(zipPath).toBe(join(REPO_DIR, a.built));
  });

  test("the zip exists after the build and holds exactly index.mjs, which exports the handler", () => {
    expect(existsSync(zipPath), `${a.built} is missing: run \`make build\` first`).toBe(true);
    expect(bundleProblems(zipPath, [])).toEqual([]);
  });

  test("every environment variable Terraform sets is read by the bundle", () => {
    expect(a.env.length).toBeGreaterThan(3);
    expect(bundleProblems(zipPath, a.env)).toEqual([]);
  });
});

test("every function is index.handler on nodejs22.x by default, deployed with the zip's hash", () => {
  expect(lambda?.variables.get("handler")).toBe("index.handler");
  expect(lambda?.variables.get("runtime")).toBe("nodejs22.x");
  const fn = lambda?.blocks.find((b) => b.address === "aws_lambda_function.this");
  expect(fn?.body.handler).toBe("${var.handler}");
  expect(fn?.body.source_code_hash).toBe("${try(filebase64sha256(local.zip_path), null)}");
  expect(nested(fn?.body, "environment")?.variables).toBe("${var.environment}");
  expect(streamUrl?.variables.get("streamer_zip_path")).toBe(root?.variables.get("streamer_zip_path"));
  expect(workflow?.variables.get("steps_zip_path")).toBe(root?.variables.get("steps_zip_path"));
});

test("the bundle checks fail on fixtures/bad-bundle.zip (two files, no index.mjs, no handler, unread variable)", () => {
  const problems = bundleProblems(join(INFRA_DIR, "tests/contract/fixtures/bad-bundle.zip"), [
    "TABLE_NAME",
    "PAGE_SIZE",
  ]);
  expect(problems).toEqual([
    "holds main.js, extra.txt, not exactly index.mjs",
    "index.mjs does not export `handler`",
    "TABLE_NAME is set by Terraform but not read by the bundle",
    "PAGE_SIZE is set by Terraform but not read by the bundle",
  ]);
  expect(bundleProblems(join(INFRA_DIR, "tests/contract/fixtures/no-such.zip"), [])[0]).toMatch(
    /run `make build`/,
  );
});

test("turbo caches the zips as build outputs", () => {
  const turbo = JSON.parse(readFileSync(join(REPO_DIR, "turbo.json"), "utf8"));
  expect(turbo.tasks.build.outputs).toContain("dist/**");
});

test("the API's request model bounds the workflow input as the steps do (WORKFLOW_LIMITS)", async () => {
  const { WORKFLOW_LIMITS } = (await import("@stepstream/steps")) as {
    WORKFLOW_LIMITS: {
      maxCount: number;
      maxConcurrency: number;
      maxStepWaitSeconds: number;
      maxStepDurationMs: number;
    };
  };
  const schema = JSON.parse(
    readFileSync(join(INFRA_DIR, "modules/start-api/templates/workflow-input.schema.json"), "utf8"),
  );
  const p = schema.properties;
  expect(schema.type).toBe("object");
  expect([p.count.minimum, p.count.maximum]).toEqual([1, WORKFLOW_LIMITS.maxCount]);
  expect([p.concurrency.minimum, p.concurrency.maximum]).toEqual([1, WORKFLOW_LIMITS.maxConcurrency]);
  expect([p.stepWaitSeconds.minimum, p.stepWaitSeconds.maximum]).toEqual([
    0,
    WORKFLOW_LIMITS.maxStepWaitSeconds,
  ]);
  expect(p.stepDurationMs.maximum).toBe(WORKFLOW_LIMITS.maxStepDurationMs);
  expect(p.stepJitterMs.maximum).toBe(WORKFLOW_LIMITS.maxStepDurationMs);
  expect(p.failAt.maximum).toBe(WORKFLOW_LIMITS.maxCount - 1);
});
