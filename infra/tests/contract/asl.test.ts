/**
 * The one ASL template, as Terraform renders it: valid per asl-validator, saved byte for byte in
 * golden/, and identical to what the local stack runs (`renderWorkflowDefinition` of
 * `@stepstream/local`, plain `${name}` substitution of the same file).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { terminalRecordProblems } from "./asl-rules.js";
import { INFRA_DIR, REPO_DIR } from "./hcl.js";
import { evaluateString, hclString, requireTerraform } from "./terraform.js";

const require = createRequire(import.meta.url);
const aslValidator = require("asl-validator") as (
  definition: unknown,
  opts?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: { message?: string; "Error code"?: string }[] };

const TEMPLATE = join(INFRA_DIR, "modules/workflow/templates/workflow.asl.json.tftpl");
/** The copy of Terraform's render that the byte-identity test compares the local stack with. */
const GOLDEN = join(INFRA_DIR, "tests/contract/golden/workflow.asl.json.golden");
/** The fixed variables both renders use. */
const FIXED_VARS = {
  stepsFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:stepstream-local-steps",
  stepWaitSeconds: 1,
};

const validate = (text: string) => aslValidator(JSON.parse(text), { checkPaths: true, checkArn: true });

const haveTerraform = requireTerraform();

function terraformRender(): string {
  return evaluateString(
    `templatefile(${hclString(TEMPLATE)}, { steps_function_arn = ${hclString(FIXED_VARS.stepsFunctionArn)}, step_wait_seconds = ${FIXED_VARS.stepWaitSeconds} })`,
  );
}

describe("ASL template", () => {
  test("uses only the two variables Terraform passes, and no template directives", () => {
    // Plain ${name} substitution (the local stack) equals templatefile() only under these conditions.
    const text = readFileSync(TEMPLATE, "utf8");
    const names = new Set([...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]));
    expect([...names].sort()).toEqual(["step_wait_seconds", "steps_function_arn"]);
    expect(text).not.toMatch(/%\{|\$\$\{|%%\{/);
  });

  test.runIf(haveTerraform)("rendered by Terraform, it is valid ASL (asl-validator)", () => {
    const rendered = terraformRender();
    const result = validate(rendered);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test("asl-validator catches a broken definition (the check can fail)", () => {
    const def = JSON.parse(readFileSync(GOLDEN, "utf8"));
    def.States.Plan.Next = "NoSuchState";
    delete def.States.Failed;
    const result = aslValidator(def);
    expect(result.isValid).toBe(false);
    expect(result.errors.length).toBeGreaterThan(0);
  });

  test.runIf(haveTerraform)("the saved copy in golden/ is Terraform's render, byte for byte", () => {
    const rendered = terraformRender();
    if (process.env.STEPSTREAM_UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, rendered);
    const saved = readFileSync(GOLDEN, "utf8");
    expect(
      saved === rendered,
      `${GOLDEN} is out of date: run STEPSTREAM_UPDATE_GOLDEN=1 pnpm exec vitest run tests/contract/asl.test.ts`,
    ).toBe(true);
  });

  test("the saved render is valid ASL whose tasks call the fixed steps function", () => {
    const saved = readFileSync(GOLDEN, "utf8");
    expect(validate(saved).isValid).toBe(true);
    const def = JSON.parse(saved);
    expect(def.States.Plan.Parameters.FunctionName).toBe(FIXED_VARS.stepsFunctionArn);
    expect(def.States.Plan.Parameters.Payload.defaultStepWaitSeconds).toBe(FIXED_VARS.stepWaitSeconds);
  });
});

/**
 * The local stack's package is built (turbo builds it before this package's tests). Outside CI a
 * checkout where apps/local is not built yet skips the parity test, visibly; in CI it must run.
 */
const localBuilt = existsSync(join(REPO_DIR, "apps/local/dist/index.js"));
const runParity = localBuilt || Boolean(process.env.CI);
if (!runParity)
  console.warn("!!! apps/local is not built: the ASL byte-identity test with @stepstream/local is skipped");

describe("local stack parity", () => {
  test.runIf(runParity)(
    "@stepstream/local renderWorkflowDefinition() is byte-identical to Terraform's render",
    async () => {
      const local = (await import("@stepstream/local")) as {
        renderWorkflowDefinition?: (vars: { stepsFunctionArn: string; stepWaitSeconds: number }) => string;
      };
      expect(
        typeof local.renderWorkflowDefinition,
        "@stepstream/local exports renderWorkflowDefinition",
      ).toBe("function");
      const rendered = local.renderWorkflowDefinition?.(FIXED_VARS);
      const saved = readFileSync(GOLDEN, "utf8");
      expect(rendered === saved, "the local stack must run exactly what Terraform deploys").toBe(true);
    },
  );
});

describe("every run a Catch can see ends with a terminal record (issue 11 items 4, 5)", () => {
  test("the simulated workflow: Task timeouts, Lambda retries (throttling included), Catch into RecordFailure", () => {
    const def = JSON.parse(readFileSync(GOLDEN, "utf8"));
    expect(terminalRecordProblems(def, "RecordFailure")).toEqual([]);
    // The state machine's own timeout stays (Express ends at 300 s anyway): no Catch sees it, and the
    // reader-side bound covers it (CONTRACTS.md item 4).
    expect(def.TimeoutSeconds).toBe(300);
  });

  test("the check fails on a definition without Task timeouts, throttling retries or Catch", () => {
    const def = JSON.parse(readFileSync(GOLDEN, "utf8"));
    delete def.States.Plan.TimeoutSeconds;
    def.States.Steps.ItemProcessor.States.Step.Retry = def.States.Steps.ItemProcessor.States.Step.Retry.slice(
      0,
      1,
    );
    delete def.States.FinalStep.Catch;
    const problems = terminalRecordProblems(def, "RecordFailure").join("\n");
    expect(problems).toMatch(/Plan: a Task without TimeoutSeconds/);
    expect(problems).toMatch(/Steps\/Step: does not retry Lambda.TooManyRequestsException/);
    expect(problems).toMatch(/FinalStep: does not catch States.ALL into RecordFailure/);
  });

  test("each Task's timeout is shorter than the run: a step (at most 120 s of work) times out before Express's 300 s", () => {
    const def = JSON.parse(readFileSync(GOLDEN, "utf8"));
    const step = def.States.Steps.ItemProcessor.States.Step;
    expect(step.TimeoutSeconds).toBeGreaterThan(120);
    expect(step.TimeoutSeconds).toBeLessThan(300);
    expect(def.States.FinalStep.TimeoutSeconds).toBe(step.TimeoutSeconds);
  });
});

describe("examples/parallel-writers: a consumer's own ASL keeps the same rules", () => {
  const template = join(INFRA_DIR, "examples/parallel-writers/workflow.asl.json.tftpl");
  const render = () =>
    evaluateString(
      `templatefile(${hclString(template)}, { task_timeout_seconds = 60, summarize_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:s", translate_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:t", finish_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f" })`,
    );

  test.runIf(haveTerraform)("rendered by Terraform, it is valid ASL (asl-validator)", () => {
    const result = validate(render());
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test.runIf(haveTerraform)(
    "Task timeouts, Lambda retries (throttling included), Catch into RecordFailure",
    () => {
      expect(terminalRecordProblems(JSON.parse(render()), "RecordFailure")).toEqual([]);
    },
  );
});
