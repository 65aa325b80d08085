/**
 * The rules checkov and trivy apply to the resource types this stack uses, encoded as pure checks
 * over parsed HCL (neither scanner can be installed here). A rule deliberately not met on a block
 * must carry `# checkov:skip=<ID>:<reason>` inside that block, and `#trivy:ignore:<AVD id>` above it
 * when trivy has the same rule.
 */
import {
  type Block,
  blocksOf,
  type Json,
  type Module,
  nested,
  resolveValue,
  type Statement,
  statements,
  UNKNOWN,
} from "./hcl.js";

export interface Rule {
  /** checkov ID. */
  id: string;
  /** trivy (AVD) ID of the same rule, when trivy has one. */
  trivy?: string;
  title: string;
  kind: "resource" | "data";
  types: string[];
  /** `true` when met, otherwise why not. */
  check: (block: Block) => true | string;
}

export type Outcome =
  | { status: "passed"; block: Block }
  | { status: "skipped"; block: Block; reason: string }
  | { status: "failed"; block: Block; why: string };

/** Runs a rule over every block of its types in the given modules. */
export function evaluate(rule: Rule, mods: Module[]): Outcome[] {
  return rule.types
    .flatMap((t) => blocksOf(mods, rule.kind, t))
    .map((block): Outcome => {
      const result = rule.check(block);
      if (result === true) return { status: "passed", block };
      const reason = block.checkovSkips.get(rule.id);
      if (reason !== undefined) return { status: "skipped", block, reason };
      return { status: "failed", block, why: result };
    });
}

const value = (block: Block, v: unknown) => resolveValue(block.module, v);
const isSet = (v: unknown) => v !== undefined && v !== null && v !== UNKNOWN && v !== "";
const truthy = (block: Block, v: unknown) => value(block, v) === true;

/** A value that is set, either literally or by an expression (an expression is assumed set). */
const configured = (block: Block, v: unknown) => {
  const r = value(block, v);
  return r === UNKNOWN ? v !== undefined && v !== null : isSet(r);
};

// ---------------------------------------------------------------------------------------------
// DynamoDB
// ---------------------------------------------------------------------------------------------

const dynamodb: Rule[] = [
  {
    id: "CKV_AWS_28",
    trivy: "AVD-AWS-0024",
    title: "DynamoDB point-in-time recovery is enabled",
    kind: "resource",
    types: ["aws_dynamodb_table"],
    check: (b) =>
      truthy(b, nested(b.body, "point_in_time_recovery")?.enabled) || "point_in_time_recovery is not enabled",
  },
  {
    id: "CKV_AWS_119",
    trivy: "AVD-AWS-0025",
    title: "DynamoDB is encrypted with a customer managed KMS key",
    kind: "resource",
    types: ["aws_dynamodb_table"],
    check: (b) => {
      const sse = nested(b.body, "server_side_encryption");
      if (!truthy(b, sse?.enabled)) return "server_side_encryption is not enabled";
      return isSet(value(b, sse?.kms_key_arn)) || "no customer managed kms_key_arn (by default)";
    },
  },
  {
    id: "CKV2_AWS_16",
    title: "DynamoDB capacity scales (on-demand billing)",
    kind: "resource",
    types: ["aws_dynamodb_table"],
    check: (b) =>
      value(b, b.body.billing_mode) === "PAY_PER_REQUEST" || "provisioned capacity without autoscaling",
  },
];

// ---------------------------------------------------------------------------------------------
// Lambda
// ---------------------------------------------------------------------------------------------

const DEPRECATED_RUNTIMES =
  /^(nodejs(4\.3|6\.10|8\.10|10\.x|12\.x|14\.x|16\.x|18\.x)|python(2\.7|3\.[6-8])|dotnetcore|ruby2|go1\.x|java8$)/;
const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY)/i;
const SECRET_VALUE = /(AKIA[0-9A-Z]{16}|-----BEGIN|aws_secret_access_key)/i;

const lambda: Rule[] = [
  {
    id: "CKV_AWS_50",
    trivy: "AVD-AWS-0066",
    title: "Lambda traces with X-Ray",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) =>
      value(b, nested(b.body, "tracing_config")?.mode) === "Active" || "tracing_config.mode is not Active",
  },
  {
    id: "CKV_AWS_115",
    title: "Lambda has a function-level concurrency limit",
    kind: "resource",
    types: ["aws_lambda_function"],
    // A reservation is opt-in here (issue 11 item 3): -1, null or an expression that is -1 by default
    // does not meet the rule, and the block must say why it skips it.
    check: (b) => {
      const v = value(b, b.body.reserved_concurrent_executions);
      return (typeof v === "number" && v >= 0) || "no reserved_concurrent_executions (by default)";
    },
  },
  {
    id: "CKV_AWS_116",
    title: "Lambda has a dead-letter queue",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) => configured(b, nested(b.body, "dead_letter_config")?.target_arn) || "no dead_letter_config",
  },
  {
    id: "CKV_AWS_117",
    title: "Lambda runs inside a VPC",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) => nested(b.body, "vpc_config") !== undefined || "no vpc_config",
  },
  {
    id: "CKV_AWS_173",
    title: "Lambda environment variables are encrypted with a customer managed key",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) =>
      nested(b.body, "environment") === undefined ||
      isSet(value(b, b.body.kms_key_arn)) ||
      "environment without a customer managed kms_key_arn (by default)",
  },
  {
    id: "CKV_AWS_272",
    title: "Lambda validates code signing",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) => configured(b, b.body.code_signing_config_arn) || "no code_signing_config_arn",
  },
  {
    id: "CKV_AWS_45",
    title: "Lambda environment holds no secrets",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) => {
      const vars: Record<string, unknown> = nested(b.body, "environment")?.variables ?? {};
      for (const [k, v] of Object.entries(vars)) {
        if (SECRET_NAME.test(k)) return `environment variable ${k} looks like a secret`;
        if (typeof v === "string" && SECRET_VALUE.test(v))
          return `environment variable ${k} holds a credential`;
      }
      return true;
    },
  },
  {
    id: "CKV_AWS_363",
    title: "Lambda uses a supported runtime",
    kind: "resource",
    types: ["aws_lambda_function"],
    check: (b) => {
      const r = value(b, b.body.runtime);
      if (typeof r !== "string") return "runtime is not set";
      return !DEPRECATED_RUNTIMES.test(r) || `runtime ${r} is deprecated`;
    },
  },
  {
    id: "CKV_AWS_301",
    trivy: "AVD-AWS-0067",
    title: "Lambda is not invokable by everyone (no permission for principal *)",
    kind: "resource",
    types: ["aws_lambda_permission"],
    check: (b) => {
      if (value(b, b.body.principal) === "*") return "aws_lambda_permission for principal *";
      return configured(b, b.body.source_arn) || "aws_lambda_permission without source_arn";
    },
  },
  {
    id: "CKV_AWS_258",
    title: "Lambda function URL requires authentication (AWS_IAM)",
    kind: "resource",
    types: ["aws_lambda_function_url"],
    check: (b) => value(b, b.body.authorization_type) === "AWS_IAM" || "authorization_type is not AWS_IAM",
  },
];

// ---------------------------------------------------------------------------------------------
// Step Functions
// ---------------------------------------------------------------------------------------------

const stepFunctions: Rule[] = [
  {
    id: "CKV_AWS_284",
    title: "State machine traces with X-Ray",
    kind: "resource",
    types: ["aws_sfn_state_machine"],
    check: (b) =>
      truthy(b, nested(b.body, "tracing_configuration")?.enabled) || "tracing_configuration is not enabled",
  },
  {
    id: "CKV_AWS_285",
    title: "State machine logs executions",
    kind: "resource",
    types: ["aws_sfn_state_machine"],
    check: (b) => {
      const l = nested(b.body, "logging_configuration");
      if (!l || !configured(b, l.log_destination)) return "no logging_configuration.log_destination";
      const level = value(b, l.level);
      return (level !== undefined && level !== "OFF") || "logging level is OFF";
    },
  },
];

// ---------------------------------------------------------------------------------------------
// API Gateway
// ---------------------------------------------------------------------------------------------

const settings = (b: Block): Json => nested(b.body, "settings") ?? {};
const createBeforeDestroy = (b: Block) => nested(b.body, "lifecycle")?.create_before_destroy === true;

const apiGateway: Rule[] = [
  {
    id: "CKV_AWS_59",
    trivy: "AVD-AWS-0004",
    title: "API methods require authorization (OPTIONS preflights excepted)",
    kind: "resource",
    types: ["aws_api_gateway_method"],
    check: (b) => {
      if (value(b, b.body.http_method) === "OPTIONS") return true;
      if (b.body.api_key_required === true) return true;
      return value(b, b.body.authorization) !== "NONE" || "authorization is NONE";
    },
  },
  {
    id: "CKV2_AWS_53",
    title: "API requests are validated",
    kind: "resource",
    types: ["aws_api_gateway_method"],
    check: (b) =>
      value(b, b.body.http_method) === "OPTIONS" ||
      configured(b, b.body.request_validator_id) ||
      "no request_validator_id",
  },
  {
    id: "CKV_AWS_76",
    trivy: "AVD-AWS-0001",
    title: "API stage writes access logs",
    kind: "resource",
    types: ["aws_api_gateway_stage"],
    check: (b) =>
      configured(b, nested(b.body, "access_log_settings")?.destination_arn) || "no access_log_settings",
  },
  {
    id: "CKV_AWS_73",
    trivy: "AVD-AWS-0003",
    title: "API stage traces with X-Ray",
    kind: "resource",
    types: ["aws_api_gateway_stage"],
    check: (b) => truthy(b, b.body.xray_tracing_enabled) || "xray_tracing_enabled is not true",
  },
  {
    id: "CKV_AWS_120",
    trivy: "AVD-AWS-0190",
    title: "API stage caches responses",
    kind: "resource",
    types: ["aws_api_gateway_stage"],
    check: (b) => truthy(b, b.body.cache_cluster_enabled) || "cache_cluster_enabled is not true",
  },
  {
    id: "CKV2_AWS_29",
    title: "API stage is protected by a WAF web ACL",
    kind: "resource",
    types: ["aws_api_gateway_stage"],
    check: (b) => {
      const assoc = blocksOf([b.module], "resource", "aws_wafv2_web_acl_association").find(
        (a) =>
          String(a.body.resource_arn).includes(`aws_api_gateway_stage.${b.name}.arn`) &&
          a.body.count === undefined &&
          a.body.for_each === undefined,
      );
      return assoc !== undefined || "no unconditional aws_wafv2_web_acl_association";
    },
  },
  {
    id: "CKV2_AWS_51",
    title: "API stage authenticates to its back end with a client certificate",
    kind: "resource",
    types: ["aws_api_gateway_stage"],
    check: (b) => configured(b, b.body.client_certificate_id) || "no client_certificate_id",
  },
  {
    id: "CKV2_AWS_4",
    title: "API stage sets an execution logging level",
    kind: "resource",
    types: ["aws_api_gateway_method_settings"],
    check: (b) => {
      const level = value(b, settings(b).logging_level);
      return level === "INFO" || level === "ERROR" || `logging_level is ${String(level)}`;
    },
  },
  {
    id: "CKV_AWS_225",
    title: "API method settings enable caching",
    kind: "resource",
    types: ["aws_api_gateway_method_settings"],
    check: (b) => truthy(b, settings(b).caching_enabled) || "caching_enabled is not true",
  },
  {
    id: "CKV_AWS_308",
    trivy: "AVD-AWS-0002",
    title: "API method settings encrypt cached data",
    kind: "resource",
    types: ["aws_api_gateway_method_settings"],
    check: (b) => truthy(b, settings(b).cache_data_encrypted) || "cache_data_encrypted is not true",
  },
  {
    id: "CKV_AWS_217",
    title: "API deployment is created before the old one is destroyed",
    kind: "resource",
    types: ["aws_api_gateway_deployment"],
    check: (b) => createBeforeDestroy(b) || "no lifecycle create_before_destroy",
  },
  {
    id: "CKV_AWS_237",
    title: "REST API is created before the old one is destroyed",
    kind: "resource",
    types: ["aws_api_gateway_rest_api"],
    check: (b) => createBeforeDestroy(b) || "no lifecycle create_before_destroy",
  },
];

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs
// ---------------------------------------------------------------------------------------------

const logs: Rule[] = [
  {
    id: "CKV_AWS_66",
    title: "Log group has a retention period",
    kind: "resource",
    types: ["aws_cloudwatch_log_group"],
    check: (b) => {
      const r = value(b, b.body.retention_in_days);
      if (r === UNKNOWN) return true;
      return (typeof r === "number" && r > 0) || "no retention_in_days (logs kept forever)";
    },
  },
  {
    id: "CKV_AWS_338",
    title: "Log group keeps logs at least one year",
    kind: "resource",
    types: ["aws_cloudwatch_log_group"],
    check: (b) => {
      const r = value(b, b.body.retention_in_days);
      return (typeof r === "number" && r >= 365) || `retention_in_days is ${String(r)} (< 365)`;
    },
  },
  {
    id: "CKV_AWS_158",
    trivy: "AVD-AWS-0017",
    title: "Log group is encrypted with a customer managed KMS key",
    kind: "resource",
    types: ["aws_cloudwatch_log_group"],
    check: (b) => isSet(value(b, b.body.kms_key_id)) || "no kms_key_id (by default)",
  },
];

// ---------------------------------------------------------------------------------------------
// IAM (policy documents)
// ---------------------------------------------------------------------------------------------

const READ_VERB = /^[a-z0-9-]+:(Get|List|Describe|Query|Scan|BatchGet|Head|Search|Select|View|Lookup)/;
const PERMISSIONS_MANAGEMENT =
  /:(Put\w*Policy|Delete\w*Policy|Attach\w*Policy|Detach\w*Policy|Create\w*Policy\w*|Set\w*Policy\w*|AddPermission|RemovePermission|CreateGrant|PutKeyPolicy|PassRole|UpdateAssumeRolePolicy)$/;
const CREDENTIALS_EXPOSURE = [
  "iam:CreateAccessKey",
  "iam:UpdateAccessKey",
  "iam:CreateLoginProfile",
  "iam:UpdateLoginProfile",
  "sts:GetSessionToken",
  "sts:GetFederationToken",
  "ecr:GetAuthorizationToken",
  "redshift:GetClusterCredentials",
  "sso:GetRoleCredentials",
];
const DATA_EXFILTRATION = [
  "s3:GetObject",
  "ssm:GetParameter",
  "ssm:GetParameters",
  "ssm:GetParametersByPath",
  "secretsmanager:GetSecretValue",
];
const PRIVILEGE_ESCALATION =
  /^(iam:(PassRole|AttachUserPolicy|AttachRolePolicy|AttachGroupPolicy|PutUserPolicy|PutRolePolicy|PutGroupPolicy|CreatePolicyVersion|SetDefaultPolicyVersion|UpdateAssumeRolePolicy|AddUserToGroup|CreateAccessKey|CreateLoginProfile|UpdateLoginProfile)|lambda:(UpdateFunctionCode|CreateFunction)|glue:UpdateDevEndpoint|cloudformation:CreateStack|ec2:RunInstances)$/;

const stmts = (b: Block): Statement[] => statements(b);
const onStar = (s: Statement) => s.resources.includes("*");
const failWith = (b: Block, bad: (s: Statement) => string | undefined): true | string => {
  for (const s of stmts(b)) {
    const why = bad(s);
    if (why) return `statement ${s.sid || "(no sid)"}: ${why}`;
  }
  return true;
};

const iam: Rule[] = [
  {
    id: "CKV_AWS_49",
    trivy: "AVD-AWS-0057",
    title: "No policy statement allows a wildcard action",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        const a = s.actions.find((x) => x.includes("*"));
        return a ? `wildcard action ${a}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_1",
    title: "No policy grants full administrative privileges (*:* on *)",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) => failWith(b, (s) => (s.actions.includes("*") && onStar(s) ? "allows * on *" : undefined)),
  },
  {
    id: "CKV_AWS_356",
    trivy: "AVD-AWS-0057",
    title: 'No policy statement uses Resource "*"',
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) => failWith(b, (s) => (onStar(s) ? `Resource "*" for ${s.actions.join(", ")}` : undefined)),
  },
  {
    id: "CKV_AWS_111",
    title: 'No write access without constraints (write actions on Resource "*")',
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        if (!onStar(s)) return undefined;
        const w = s.actions.filter((a) => !READ_VERB.test(a));
        return w.length > 0 ? `write actions on "*": ${w.join(", ")}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_109",
    title: 'No permissions management without constraints (policy actions on Resource "*")',
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        if (!onStar(s)) return undefined;
        const p = s.actions.filter((a) => PERMISSIONS_MANAGEMENT.test(a));
        return p.length > 0 ? `permissions management on "*": ${p.join(", ")}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_107",
    title: "No credentials exposure",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        const c = s.actions.filter((a) => CREDENTIALS_EXPOSURE.includes(a));
        return c.length > 0 ? `credentials exposure: ${c.join(", ")}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_108",
    title: "No data exfiltration",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        const d = s.actions.filter((a) => DATA_EXFILTRATION.includes(a));
        return d.length > 0 && onStar(s) ? `data exfiltration on "*": ${d.join(", ")}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_110",
    title: "No privilege escalation",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        const p = s.actions.filter((a) => PRIVILEGE_ESCALATION.test(a));
        return p.length > 0 ? `privilege escalation: ${p.join(", ")}` : undefined;
      }),
  },
  {
    id: "CKV_AWS_60",
    title: "Roles can be assumed only by specific services (no * principal)",
    kind: "data",
    types: ["aws_iam_policy_document"],
    check: (b) =>
      failWith(b, (s) => {
        for (const p of s.principals) {
          if (p.identifiers.includes("*")) return `principal ${p.type} *`;
          if (p.type === "AWS")
            return `AWS principal ${p.identifiers.join(", ")} (roles here are for services only)`;
        }
        return undefined;
      }),
  },
  {
    id: "CKV_AWS_274",
    title: "No role has AdministratorAccess",
    kind: "resource",
    types: ["aws_iam_role_policy_attachment", "aws_iam_role"],
    check: (b) => {
      const arns = [b.body.policy_arn, ...(b.body.managed_policy_arns ?? [])].filter(Boolean).map(String);
      return !arns.some((a) => a.endsWith("/AdministratorAccess")) || "AdministratorAccess attached";
    },
  },
];

/** Every scanner rule encoded here. */
export const RULES: Rule[] = [...dynamodb, ...lambda, ...stepFunctions, ...apiGateway, ...logs, ...iam];
