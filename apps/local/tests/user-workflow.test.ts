import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderTemplate } from "../src/asl.js";
import { type LocalStack, startStack, UserWorkflowError } from "../src/index.js";
import { functionNameOf, loadUserWorkflow } from "../src/user-workflow.js";
import { clientOf, startRun } from "./support.js";

// Your own workflow on the local stack: a definition of its own (a Parallel of two branches, then a
// final record) with two handlers of its own, run by the same emulators as the simulated workflow.

const fixture = (name: string) => join(dirname(fileURLToPath(import.meta.url)), "fixtures", name);
const REGION = "us-east-1";
const ACCOUNT = "000000000000";
const SHOUTER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Shouter`;

describe("a user's own ASL and handlers", () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startStack({
      memory: true,
      port: 0,
      outputsFile: null,
      region: REGION,
      streamer: { pollIntervalMs: 20, maxPollIntervalMs: 100 },
      workflow: {
        definition: fixture("parallel.asl.json.tftpl"),
        vars: { done_text: "done" },
        functions: { Writer: fixture("writer.mjs"), Shouter: fixture("shouter.mjs") },
      },
    });
  });
  afterAll(async () => stack?.close());

  it("runs the definition (a template with --var and <name>_function_arn), each Task invoking the function its FunctionName names (name, ARN, qualified name)", async () => {
    // Act
    const started = await startRun(stack, { text: "hello" });
    const stream = clientOf(stack).stream(started.executionArn);
    const records = [];
    for await (const r of stream) records.push(r);
    const outcome = await stream.outcome;

    // Assess
    expect(outcome.status).toBe("succeeded");
    const byKey = Object.fromEntries(
      [...records, outcome.terminal].map((r) => [r.RecordKey, r.Result as Record<string, unknown>]),
    );
    expect(byKey.whisper).toEqual({ text: "hello", by: "Writer", table: stack.tableName });
    expect(byKey.shout).toEqual({ text: "HELLO", by: "Shouter" });
    expect(byKey.done).toMatchObject({ text: "done", by: "Writer" });
    expect(outcome.terminal.Type).toBe("final");
    expect(stack.stepsFunctionArn).toBeNull();
    expect(stack.functions).toEqual({
      Writer: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Writer`,
      Shouter: SHOUTER_ARN,
    });
  });

  it("does not hold the input to the simulated workflow's parameters", async () => {
    // count 5000 is past the simulated workflow's bounds; this workflow has none.
    const started = await startRun(stack, { text: "x", count: 5000 });
    const stream = clientOf(stack).stream(started.executionArn);
    for await (const _ of stream);
    expect((await stream.outcome).status).toBe("succeeded");
  });
});

describe("checks before anything starts", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "stepstream-user-workflow-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const asl = (name: string, task: Record<string, unknown>) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      JSON.stringify({ StartAt: "T", States: { T: { Type: "Task", End: true, ...task } } }),
    );
    return file;
  };
  const load =
    (definition: string, functions: Record<string, string> = { Writer: fixture("writer.mjs") }) =>
    () =>
      loadUserWorkflow({ definition, functions }, REGION, ACCOUNT);

  it("refuses a FunctionName no --function provides, saying which flag to add", () => {
    const file = asl("missing.json", {
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: "Other", Payload: {} },
    });
    expect(load(file)).toThrow(UserWorkflowError);
    expect(load(file)).toThrow(/state T invokes Other, which no --function provides \(--function Other=/);
  });

  it("refuses an ARN of another account or region (AWS would look there, not here)", () => {
    const file = asl("foreign.json", {
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: "arn:aws:lambda:eu-west-1:123456789012:function:Writer" },
    });
    expect(load(file)).toThrow(/is in eu-west-1\/123456789012/);
  });

  it("refuses Task resources the local stack does not run", () => {
    const direct = asl("direct.json", { Resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Writer` });
    const token = asl("token.json", {
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      Parameters: { FunctionName: "Writer" },
    });
    expect(load(direct)).toThrow(/is not run by the local stack/);
    expect(load(token)).toThrow(/is not run by the local stack/);
  });

  it("refuses a missing handler file, a bad function name, a missing definition", () => {
    const ok = asl("ok.json", {
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { FunctionName: "Writer" },
    });
    expect(load(ok, { Writer: join(dir, "nope.mjs") })).toThrow(
      /--function Writer=.*nope\.mjs: no such file/,
    );
    expect(load(ok, { "bad name": fixture("writer.mjs") })).toThrow(/a function name is 1-64/);
    expect(load(join(dir, "absent.json"))).toThrow(/--definition .*absent\.json: no such file/);
    expect(load(ok)).not.toThrow();
  });

  it("accepts a dynamic FunctionName.$ (resolved when invoked)", () => {
    const file = asl("dynamic.json", {
      Resource: "arn:aws:states:::lambda:invoke",
      Parameters: { "FunctionName.$": "$.fn" },
    });
    expect(load(file)).not.toThrow();
  });
});

describe("functionNameOf: the FunctionName forms Lambda accepts", () => {
  it.each([
    ["Writer", "Writer"],
    ["Writer:$LATEST", "Writer"],
    ["Writer:live", "Writer"],
    [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:Writer`, "Writer"],
    [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:Writer:3`, "Writer"],
    [`${ACCOUNT}:function:Writer`, "Writer"],
  ])("%s → %s", (given, name) => {
    expect(functionNameOf(given, REGION, ACCOUNT)).toEqual({ name });
  });

  it.each([
    "arn:aws:s3:::bucket",
    `arn:aws:lambda:us-west-2:${ACCOUNT}:function:Writer`,
    "111111111111:function:Writer",
    "has space",
    "",
  ])("%s is not a function of this stack", (given) => {
    expect(functionNameOf(given, REGION, ACCOUNT)).toHaveProperty("reason");
  });
});

describe("renderTemplate: templatefile's plain interpolations", () => {
  // Written with @{…} for ${…}, so that no string here looks like a forgotten JS template literal.
  const t = (s: string) => s.replaceAll("@{", "${");
  it("substitutes variables and keeps escapes and ASL's $$ paths", () => {
    expect(
      renderTemplate(t('{"a":"@{x}","b.$":"$$.Execution.Id","c":"$@{y}","d":"%%{z}"}'), { x: "1" }),
    ).toBe(t('{"a":"1","b.$":"$$.Execution.Id","c":"@{y}","d":"%{z}"}'));
  });
  it("refuses unknown variables, expressions and directives", () => {
    expect(() => renderTemplate(t("@{nope}"), {})).toThrow(/--var nope=VALUE/);
    expect(() => renderTemplate(t("@{a.b}"), { a: "1" })).toThrow(/only variable names/);
    expect(() => renderTemplate("%{ if true }x%{ endif }", {})).toThrow(/directives/);
  });
});
