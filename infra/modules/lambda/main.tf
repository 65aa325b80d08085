################################################################################
# One Lambda function with its own IAM role, inline policy and log group: the
# block every stepstream function (the workflow's steps, the streamer, a
# consumer's own functions) is made of. Internal: the other modules call it.
################################################################################

locals {
  zip_path = startswith(var.zip_path, "/") ? var.zip_path : "${path.root}/${var.zip_path}"

  reserved = var.reserved_concurrency != null && var.reserved_concurrency != -1
}

#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:Log groups use the CloudWatch Logs default encryption unless var.cloudwatch_logs_kms_key_arn is set (a key needs a key policy for logs.<region>.amazonaws.com, which this module cannot write for you).
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (default 30): the logs describe short-lived results (result_ttl_days); set 365 or more where a compliance regime asks for a year.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name != null ? var.role_name : var.name
  description          = var.role_description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0057
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_111:The only statement with Resource "*" is X-Ray's PutTraceSegments/PutTelemetryRecords/GetSampling*, which support no resource-level permission; every other statement names this function's own log group (the caller's policy_json names its table, index or key).
  # checkov:skip=CKV_AWS_356:Same X-Ray statement: AWS offers nothing narrower than "*" for these actions.
  # What the caller grants (the results table, for a writer or the streamer), then the function's own logs.
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # X-Ray has no resource-level permissions: AWS offers nothing narrower than "*" here.
  statement {
    sid       = "XRayTracing"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.role_name != null ? var.role_name : var.name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_115:No reserved concurrency by default: AWS keeps 100 of an account's concurrency unreserved, so a reservation fails on accounts whose quota is under the reservations plus 100 (new accounts). Opt in with reserved_concurrency (the stepstream module then checks the account quota first).
  # checkov:skip=CKV_AWS_116:stepstream's functions are invoked synchronously (lambda:invoke from Step Functions, or a Function URL); a dead-letter queue only receives asynchronous invocations, so it would never receive anything. Failures are retried by the state machine and caught into a terminal error record.
  # checkov:skip=CKV_AWS_117:The functions talk only to DynamoDB, CloudWatch and X-Ray over IAM-authenticated public endpoints; a VPC would add NAT or interface endpoints (cost) and no protection for this data.
  # checkov:skip=CKV_AWS_173:The environment holds only non-secret settings (table name, ARNs, timings, log level), encrypted at rest by Lambda with an AWS managed key; set var.kms_key_arn to use a customer managed key.
  # checkov:skip=CKV_AWS_272:The zip is built by `make build` (or the consumer's own build); code signing needs an AWS Signer profile and a signed S3 artifact, out of scope for a self-deployed stack.
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn

  filename = local.zip_path
  # try(): `terraform destroy` must work after `make clean` too; a missing zip still fails apply
  # (the provider cannot read it) after the check below has said why.
  source_code_hash = try(filebase64sha256(local.zip_path), null)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  memory_size      = var.memory_size
  timeout          = var.timeout_seconds

  # -1 (the provider's "unreserved") unless a reservation is asked for.
  reserved_concurrent_executions = local.reserved ? var.reserved_concurrency : -1
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = var.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

check "zip_built" {
  assert {
    condition     = fileexists(local.zip_path)
    error_message = "${local.zip_path} does not exist: ${var.missing_zip_hint}"
  }
}
