// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Terraform expressions as hcl2json returns them.
/**
 * What checkov and trivy would report on this stack, encoded as tests over the parsed HCL. For
 * each rule: the real modules meet it, or skip it with a reason (and a trivy ignore where trivy has
 * the rule); and a bad fixture proves the check fails when the rule is broken.
 */
import { describe, expect, test } from "vitest";
import { blocksOf, loadFixture, loadRealModules, type Module } from "./hcl.js";
import {
  inlinePolicyProblems,
  ownershipProblems,
  readOnlyProblems,
  suppressionProblems,
  unexplainedStarProblems,
  wildcardActions,
} from "./policy.js";
import { evaluate, type Outcome, RULES } from "./rules.js";

const real = await loadRealModules();
const fixtures: Module[] = await Promise.all(
  ["bad-dynamodb.tf", "bad-lambda.tf", "bad-sfn.tf", "bad-api.tf", "bad-logs.tf", "bad-iam.tf"].map(
    loadFixture,
  ),
);
const badSkips = await loadFixture("bad-skips.tf");

/** Rules whose resource type this stack does not declare at all (checked only on fixtures). */
const NOT_DECLARED = new Set(["CKV_AWS_301"]);

const show = (o: Outcome) =>
  `${o.block.file}:${o.block.startLine} ${o.block.address}: ${o.status === "failed" ? o.why : o.status}`;

const ruleCases = RULES.map(
  (rule) => [`${rule.id}${rule.trivy ? ` / ${rule.trivy}` : ""}: ${rule.title}`, rule] as const,
);

describe.each(ruleCases)("%s", (_title, rule) => {
  test("the stack meets it, or skips it with a reason", () => {
    // Prepare / Act
    const outcomes = evaluate(rule, real);
    // Assess
    if (!NOT_DECLARED.has(rule.id))
      expect(outcomes.length, "the rule reads at least one block").toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === "failed").map(show)).toEqual([]);
    for (const o of outcomes) {
      if (o.status !== "skipped") continue;
      expect(o.reason.length, `${show(o)}: a skip needs a reason`).toBeGreaterThanOrEqual(20);
      if (rule.trivy) {
        expect([...o.block.trivyIgnores], `${show(o)}: mirror the skip for trivy`).toContain(rule.trivy);
      }
    }
  });

  test("the check fails on a bad fixture", () => {
    const outcomes = evaluate(rule, fixtures);
    expect(outcomes.filter((o) => o.status === "failed").length).toBeGreaterThan(0);
  });
});

describe("suppressions", () => {
  test("every checkov:skip names an encoded rule, gives a reason, is needed, and is mirrored for trivy", () => {
    expect(suppressionProblems(real)).toEqual([]);
  });

  test("the skips the stack relies on carry their reasons", () => {
    // The deliberate skips, by rule: each present with a reason on the blocks it concerns.
    const expected: Record<string, string[]> = {
      CKV_AWS_119: ["aws_dynamodb_table"],
      CKV_AWS_115: ["aws_lambda_function"],
      CKV_AWS_116: ["aws_lambda_function"],
      CKV_AWS_117: ["aws_lambda_function"],
      CKV_AWS_173: ["aws_lambda_function"],
      CKV_AWS_272: ["aws_lambda_function"],
      CKV_AWS_120: ["aws_api_gateway_stage"],
      CKV2_AWS_29: ["aws_api_gateway_stage"],
      CKV2_AWS_51: ["aws_api_gateway_stage"],
      CKV_AWS_225: ["aws_api_gateway_method_settings"],
      CKV_AWS_158: ["aws_cloudwatch_log_group"],
      CKV_AWS_338: ["aws_cloudwatch_log_group"],
      CKV_AWS_356: ["aws_iam_policy_document"],
      CKV_AWS_111: ["aws_iam_policy_document"],
      CKV_AWS_109: ["aws_iam_policy_document"],
    };
    for (const [id, types] of Object.entries(expected)) {
      const skipped = real
        .flatMap((m) => m.blocks)
        .filter((b) => types.includes(b.type) && b.checkovSkips.has(id));
      expect(skipped.length, `${id} is skipped somewhere`).toBeGreaterThan(0);
      for (const b of skipped)
        expect((b.checkovSkips.get(id) ?? "").length, `${b.address} ${id}`).toBeGreaterThan(20);
    }
  });

  test("the suppression check fails on bad-skips.tf (no reason, stale, unknown rule, no trivy mirror)", () => {
    const problems = suppressionProblems([badSkips]).join("\n");
    expect(problems).toMatch(/checkov:skip=CKV_AWS_119 has no reason/);
    expect(problems).toMatch(/checkov:skip=CKV_AWS_28 is stale/);
    expect(problems).toMatch(/checkov:skip=CKV_AWS_9999 names no rule/);
    expect(problems).toMatch(/checkov:skip=CKV_AWS_119 needs #trivy:ignore:AVD-AWS-0025/);
  });
});

describe("least privilege (issue 5)", () => {
  test("no wildcard action anywhere", () => {
    expect(wildcardActions(real)).toEqual([]);
  });

  test("the wildcard check fails on bad-iam.tf", async () => {
    expect(wildcardActions([await loadFixture("bad-iam.tf")])).toEqual(
      expect.arrayContaining([expect.stringMatching(/"\*"/), expect.stringMatching(/dynamodb:\*/)]),
    );
  });

  test("every inline policy is a policy document the checks read", () => {
    expect(inlinePolicyProblems(real)).toEqual([]);
  });

  test("the inline-policy check fails on a jsonencode policy", async () => {
    expect(inlinePolicyProblems([await loadFixture("bad-iam.tf")])).toHaveLength(1);
  });

  test("each role touches only its own table, state machine, functions and log groups", () => {
    expect(ownershipProblems(real)).toEqual([]);
  });

  test("the ownership check fails on bad-iam.tf (someone else's table, actions that allow more)", async () => {
    const problems = ownershipProblems([await loadFixture("bad-iam.tf")]).join("\n");
    expect(problems).toMatch(/dynamodb:\* on arn:aws:dynamodb:.*someone-elses is not this module's own/);
    expect(problems).toMatch(/dynamodb:PutItem on "\*"/);
  });

  test('Resource "*" appears only where a comment says AWS offers nothing narrower', () => {
    const stars = real
      .flatMap((m) => blocksOf([m], "data", "aws_iam_policy_document"))
      .filter((d) => JSON.stringify(d.body).includes('"*"'));
    expect(stars.length, 'the stack has Resource "*" statements to check').toBeGreaterThan(0);
    expect(unexplainedStarProblems(real)).toEqual([]);
  });

  test("the comment check fails on bad-iam.tf", async () => {
    expect(unexplainedStarProblems([await loadFixture("bad-iam.tf")]).length).toBeGreaterThan(0);
  });

  test("the streamer is read-only: dynamodb:Query on its table, nothing else", () => {
    const streamer = real.find((m) => m.name === "modules/stream-url");
    const docs = blocksOf(streamer ? [streamer] : [], "data", "aws_iam_policy_document");
    expect(docs.length).toBeGreaterThan(0);
    expect(readOnlyProblems(docs)).toEqual([]);
    const actions = docs.flatMap((d) =>
      (d.body.statement ?? []).flatMap((s: { actions?: string[] }) => s.actions ?? []),
    );
    expect(actions.filter((a: string) => a.startsWith("dynamodb:"))).toEqual(["dynamodb:Query"]);
  });

  test("a writer gets exactly what putResult sends: its transactions' actions and Query, on the table", () => {
    const workflow = real.find((m) => m.name === "modules/workflow");
    const writer = blocksOf(workflow ? [workflow] : [], "data", "aws_iam_policy_document").find(
      (d) => d.name === "writer",
    );
    const statements = (writer?.body.statement ?? []) as { actions?: string[]; resources?: string[] }[];
    const dynamo = statements.flatMap((s) => (s.actions ?? []).filter((a) => a.startsWith("dynamodb:")));
    // Put, Delete and ConditionCheck inside TransactWriteItems (authorized per action), PutItem of
    // the staging marker, Query for the head, key items and the staging partition.
    expect(dynamo.sort()).toEqual(
      ["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Query"].sort(),
    );
    const writes = statements.find((s) => s.actions?.includes("dynamodb:DeleteItem"));
    expect(writes?.resources).toEqual(["${var.table_arn}"]);
  });

  test("the read-only check fails on a streamer policy that writes", async () => {
    const bad = blocksOf([await loadFixture("bad-iam.tf")], "data", "aws_iam_policy_document").filter(
      (d) => d.name === "streamer_writes",
    );
    const problems = readOnlyProblems(bad).join("\n");
    expect(problems).toMatch(/dynamodb:PutItem is not read-only/);
    expect(problems).toMatch(/Query beyond the table itself/);
  });

  test("the state machine may invoke only its own functions: the ones it deploys and the ones its caller names", () => {
    const workflow = real.find((m) => m.name === "modules/workflow");
    const doc = workflow?.blocks.find((b) => b.address === "data.aws_iam_policy_document.this");
    const invoke = (doc?.body.statement ?? []).filter((s: { actions: string[] }) =>
      s.actions.some((a) => a.startsWith("lambda:")),
    );
    expect(invoke).toEqual([
      expect.objectContaining({
        actions: ["lambda:InvokeFunction"],
        resources: '${flatten([for arn in values(local.function_arns) : [arn, "${arn}:*"]])}',
      }),
    ]);
    const locals = workflow?.files
      .flatMap((f) => f.json.locals ?? [])
      .find((l: { function_arns?: string }) => l.function_arns);
    expect(locals?.function_arns).toBe(
      "${merge(\n    var.lambda_function_arns,\n    { for k, f in module.functions : k => f.lambda_function_arn },\n  )}",
    );
  });

  test("the account setting uses only arguments both provider majors know (6.0 removed reset_on_delete)", () => {
    // `>= 5.100, < 7.0` admits 5.x and 6.x: 5.100 has reset_on_delete (deprecated), 6.0 removed it
    // (destroy always resets; upgrade guide), and an unknown argument fails validate. The README says
    // what a 5.x user does instead (infra/README.md, "What stays").
    const api = real.find((m) => m.name === "modules/start-api");
    const account = api?.blocks.find((b) => b.address === "aws_api_gateway_account.this");
    expect(Object.keys(account?.body ?? {}).sort()).toEqual(["cloudwatch_role_arn", "count", "depends_on"]);
  });

  test("the API's role may only start this state machine", () => {
    const api = real.find((m) => m.name === "modules/start-api");
    const doc = api?.blocks.find((b) => b.address === "data.aws_iam_policy_document.this");
    expect(doc?.body.statement).toEqual([
      expect.objectContaining({
        actions: ["states:StartExecution"],
        resources: ["${var.state_machine_arn}"],
      }),
    ]);
    const integration = api?.blocks.find((b) => b.address === "aws_api_gateway_integration.start");
    expect(integration?.body.credentials).toBe("${aws_iam_role.this.arn}");
    // The first StartExecution after an apply must not race IAM: the integration waits for the policy.
    expect(integration?.body.depends_on).toContain("${aws_iam_role_policy.this}");
  });

  test("the stepstream module wires each module to its own siblings (its own table, state machine and URL)", () => {
    const root = real.find((m) => m.name === ".");
    expect(root?.moduleCalls.get("stepstream")?.source).toBe("./modules/stepstream");
    const calls = real.find((m) => m.name === "modules/stepstream")?.moduleCalls;
    expect(calls?.get("workflow")).toMatchObject({ table_arn: "${module.results_table.dynamodb_table_arn}" });
    expect(calls?.get("stream_url")).toMatchObject({
      table_arn: "${module.results_table.dynamodb_table_arn}",
      state_machine_arn: "${module.workflow.state_machine_arn}",
    });
    expect(calls?.get("start_api")).toMatchObject({
      state_machine_arn: "${module.workflow.state_machine_arn}",
      stream_url: "${module.stream_url.lambda_function_url}",
    });
  });
});

describe("authentication by default (issue 5)", () => {
  test("the Function URL is AWS_IAM, and the module refuses anything else", () => {
    const mod = real.find((m) => m.name === "modules/stream-url");
    const url = mod?.blocks.find((b) => b.address === "aws_lambda_function_url.this");
    expect(url?.body.authorization_type).toBe("${var.authorization_type}");
    expect(mod?.variables.get("authorization_type")).toBe("AWS_IAM");
    const validation = mod?.files
      .map((f) => f.json.variable?.authorization_type?.[0]?.validation?.[0]?.condition)
      .find(Boolean);
    expect(validation).toBe('${var.authorization_type == "AWS_IAM"}');
  });

  test("POST / is AWS_IAM by default, from the root variable down to the method", () => {
    const root = real.find((m) => m.name === ".");
    const stepstream = real.find((m) => m.name === "modules/stepstream");
    const api = real.find((m) => m.name === "modules/start-api");
    expect(root?.variables.get("api_authorization")).toBe("AWS_IAM");
    expect(root?.moduleCalls.get("stepstream")?.api_authorization).toBe("${var.api_authorization}");
    expect(stepstream?.variables.get("api_authorization")).toBe("AWS_IAM");
    expect(stepstream?.moduleCalls.get("start_api")?.authorization).toBe("${var.api_authorization}");
    expect(api?.variables.get("authorization")).toBe("AWS_IAM");
    const post = api?.blocks.find((b) => b.address === "aws_api_gateway_method.start");
    expect(post?.body.authorization).toBe("${var.authorization}");
  });

  test("the NONE choice states its risk", () => {
    const root = real.find((m) => m.name === ".");
    const description = root?.files
      .map((f) => f.json.variable?.api_authorization?.[0]?.description)
      .find(Boolean);
    expect(description).toMatch(/RISK of NONE/);
  });

  test("CORS origins are explicit: no '*' default, '*' refused", () => {
    for (const m of real) {
      if (!m.variables.has("cors_allow_origins")) continue;
      expect(m.variables.get("cors_allow_origins"), m.name).toEqual([]);
    }
    const text = real.flatMap((m) => m.files.map((f) => f.text)).join("\n");
    expect(text).not.toMatch(/allow_origins\s*=\s*\["\*"\]/);
  });
});
