// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Terraform expressions as hcl2json returns them.
/**
 * Least-privilege checks beyond the scanners' rules (issue 5): each role touches only its own
 * table, state machine, functions and log groups; `Resource "*"` only where a comment says AWS
 * offers nothing narrower; the streamer is read-only; suppressions are justified and current.
 */
import { type Block, blocksOf, commentsAbove, type Module, statements } from "./hcl.js";
import { evaluate, RULES } from "./rules.js";

/** Actions AWS gives no resource-level permission for: `Resource "*"` is the only choice. */
const NO_RESOURCE_LEVEL = new Set([
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
]);

/**
 * Which resources each action may name. Every resource is this module's own: a variable the root
 * wires to the sibling module's output, a resource of the same module, or the table key variable.
 */
const ALLOWED: { action: RegExp; resource: RegExp; why: string }[] = [
  {
    action: /^dynamodb:/,
    resource: /^\$\{var\.table_arn\}(\/index\/ByRecordKey)?$/,
    why: "the results table given to the module",
  },
  {
    action: /^kms:/,
    resource: /^\$\{statement\.value\}$/,
    why: "the table's key (dynamic over var.kms_key_arn)",
  },
  {
    action: /^lambda:InvokeFunction$/,
    resource: /^\$\{aws_lambda_function\.[a-z_]+\.arn\}(:\*)?$/,
    why: "the module's own function",
  },
  {
    // The workflow's functions: the ones it deploys and the ones its caller names, and nothing else.
    action: /^lambda:InvokeFunction$/,
    resource: /^\$\{flatten\(\[for arn in values\(local\.function_arns\) : \[arn, "\$\{arn\}:\*"\]\]\)\}$/,
    why: "the workflow's own functions (local.function_arns)",
  },
  {
    action: /^states:StartExecution$/,
    resource: /^\$\{var\.state_machine_arn\}$/,
    why: "the state machine given to the module",
  },
  {
    action: /^logs:(CreateLogStream|PutLogEvents)$/,
    resource: /^\$\{aws_cloudwatch_log_group\.[a-z_]+\.arn\}:\*$/,
    why: "the module's own log group",
  },
  {
    // The API Gateway account setting serves every REST API of the account and region.
    action: /^logs:/,
    resource: /^arn:\$\{local\.partition\}:logs:\$\{local\.region\}:\$\{local\.account\}:log-group:\*$/,
    why: "this account and region's log groups (account-wide API Gateway logging role)",
  },
  {
    action: /^execute-api:Invoke$/,
    resource: /^\$\{module\.start_api\.stage_start_invoke_arn\}$/,
    why: "this stack's POST /",
  },
  {
    action: /^lambda:(InvokeFunctionUrl|InvokeFunction)$/,
    resource: /^\$\{module\.stream_url\.lambda_function_arn\}$/,
    why: "this stack's streamer",
  },
];

/** Problems with which resources each statement's actions name (empty when least privilege). */
export function ownershipProblems(mods: Module[]): string[] {
  const problems: string[] = [];
  for (const doc of blocksOf(mods, "data", "aws_iam_policy_document")) {
    for (const s of statements(doc)) {
      if (s.principals.length > 0) continue; // a trust policy: checked by CKV_AWS_60
      for (const action of s.actions) {
        for (const resource of s.resources) {
          if (resource === "*") {
            if (!NO_RESOURCE_LEVEL.has(action)) {
              problems.push(
                `${doc.file} ${doc.address} ${s.sid}: ${action} on "*" (it supports resource-level permissions)`,
              );
            }
            continue;
          }
          const ok = ALLOWED.some((a) => a.action.test(action) && a.resource.test(resource));
          if (!ok)
            problems.push(
              `${doc.file} ${doc.address} ${s.sid}: ${action} on ${resource} is not this module's own`,
            );
        }
      }
    }
  }
  return problems;
}

/** `Resource "*"` statements must say, in a comment right above them, why nothing narrower exists. */
export function unexplainedStarProblems(mods: Module[]): string[] {
  const problems: string[] = [];
  for (const doc of blocksOf(mods, "data", "aws_iam_policy_document")) {
    for (const s of statements(doc)) {
      if (!s.resources.includes("*")) continue;
      const comments = commentsAbove(doc, s.line).join(" ");
      if (!/nothing narrower|no resource-level/i.test(comments)) {
        problems.push(
          `${doc.file}:${s.line} ${doc.address} ${s.sid}: Resource "*" without a comment saying why`,
        );
      }
    }
  }
  return problems;
}

const WRITE_DYNAMODB = /^dynamodb:(?!Query$|GetItem$|BatchGetItem$|DescribeTable$)/;

/** The streamer reads with Query on the table itself, and nothing else of DynamoDB. */
export function readOnlyProblems(docs: Block[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    for (const s of statements(doc)) {
      for (const a of s.actions.filter((x) => x.startsWith("dynamodb:"))) {
        if (WRITE_DYNAMODB.test(a)) problems.push(`${doc.address} ${s.sid}: ${a} is not read-only`);
        if (a === "dynamodb:Query" && s.resources.some((r) => r !== "${var.table_arn}")) {
          problems.push(`${doc.address} ${s.sid}: Query beyond the table itself (${s.resources.join(", ")})`);
        }
      }
    }
  }
  return problems;
}

/**
 * Every action of every policy document, and any action-like string in the raw HCL (a policy built
 * with jsonencode, say), that holds a wildcard.
 */
export function wildcardActions(mods: Module[]): string[] {
  const found: string[] = [];
  for (const doc of blocksOf(mods, "data", "aws_iam_policy_document")) {
    for (const s of statements(doc)) {
      for (const a of s.actions)
        if (a.includes("*")) found.push(`${doc.file} ${doc.address} ${s.sid}: "${a}"`);
    }
  }
  for (const f of mods.flatMap((m) => m.files)) {
    for (const m of f.text.matchAll(/"[a-z0-9-]+:[A-Za-z]*\*[A-Za-z]*"/g)) {
      const line = f.text.slice(0, m.index).split("\n").length;
      // Resource ARNs such as "${arn}:*" end in ':*' after an expression, not a service prefix.
      found.push(`${f.path.slice(f.path.lastIndexOf("infra/"))}:${line}: ${m[0]}`);
    }
  }
  return [...new Set(found)];
}

/** Inline policies must come from policy documents (so the rules above read every policy). */
export function inlinePolicyProblems(mods: Module[]): string[] {
  return blocksOf(mods, "resource", "aws_iam_role_policy")
    .filter(
      (b) => !/^\$\{data\.aws_iam_policy_document\.[a-z_]+(\[0\])?\.json\}$/.test(String(b.body.policy)),
    )
    .map((b) => `${b.file} ${b.address}: policy is not a data.aws_iam_policy_document`);
}

const KNOWN_IDS = new Set(RULES.flatMap((r) => [r.id]));

/**
 * Suppressions must name an encoded rule, give a reason a reviewer can judge, be needed (the
 * block really breaks the rule), and be mirrored for trivy when trivy has the rule.
 */
export function suppressionProblems(mods: Module[]): string[] {
  const problems: string[] = [];
  for (const block of mods.flatMap((m) => m.blocks)) {
    for (const [id, reason] of block.checkovSkips) {
      const where = `${block.file}:${block.startLine} ${block.address}`;
      if (!KNOWN_IDS.has(id)) {
        problems.push(`${where}: checkov:skip=${id} names no rule the contract tests encode`);
        continue;
      }
      if (reason.length < 20)
        problems.push(`${where}: checkov:skip=${id} has no reason (write why after the ':')`);
      const rule = RULES.find((r) => r.id === id);
      if (rule?.types.includes(block.type) && rule.check(block) === true) {
        problems.push(`${where}: checkov:skip=${id} is stale: the block meets the rule`);
      }
      if (rule?.trivy && !block.trivyIgnores.has(rule.trivy) && rule.kind === block.kind) {
        problems.push(`${where}: checkov:skip=${id} needs #trivy:ignore:${rule.trivy} above the block`);
      }
    }
  }
  return problems;
}

/** For the report: every rule's outcome over the given modules. */
export function ruleTable(mods: Module[]) {
  return RULES.map((rule) => {
    const outcomes = evaluate(rule, mods);
    return {
      id: rule.id,
      trivy: rule.trivy ?? "",
      title: rule.title,
      passed: outcomes.filter((o) => o.status === "passed").length,
      skipped: outcomes.filter((o) => o.status === "skipped").length,
      failed: outcomes.filter((o) => o.status === "failed").length,
    };
  });
}
