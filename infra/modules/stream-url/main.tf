################################################################################
# Stream URL: the streamer Lambda behind a Function URL that streams its response
# (InvokeMode RESPONSE_STREAM) to SigV4-signed callers (AWS_IAM). Read-only on the
# results table.
################################################################################

locals {
  zip_path = startswith(var.streamer_zip_path, "/") ? var.streamer_zip_path : "${path.root}/${var.streamer_zip_path}"
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
  name                 = var.name
  description          = "Streamer Lambda ${var.name}: reads (Query only) its own results table, and logs."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0057
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_111:The only statement with Resource "*" is X-Ray's PutTraceSegments/PutTelemetryRecords/GetSampling*, which support no resource-level permission; every other statement names this stack's table, key or log group.
  # checkov:skip=CKV_AWS_356:Same X-Ray statement: AWS offers nothing narrower than "*" for these actions.
  statement {
    sid       = "ReadResults"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = [var.table_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptWithTableKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

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
  name   = var.name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:The streamer is invoked synchronously through its Function URL; a dead-letter queue only receives asynchronous invocations, so it would never receive anything.
  # checkov:skip=CKV_AWS_117:The function talks only to DynamoDB, CloudWatch and X-Ray over IAM-authenticated public endpoints; a VPC would add NAT or interface endpoints (cost) and no protection for this data.
  # checkov:skip=CKV_AWS_173:The environment holds only non-secret settings (table name, state machine ARN, timings), encrypted at rest by Lambda with an AWS managed key; set var.kms_key_arn to use a customer managed key.
  # checkov:skip=CKV_AWS_272:The zip is built from this repository by `make build`; code signing needs an AWS Signer profile and a signed S3 artifact, out of scope for a self-deployed stack.
  function_name = var.name
  description   = "stepstream streamer: streams an execution's results from the results table (read-only)."
  role          = aws_iam_role.this.arn

  filename = local.zip_path
  # try(): `terraform destroy` must work after `make clean` too; a missing zip still fails apply
  # (the provider cannot read it) after the check below has said why.
  source_code_hash = try(filebase64sha256(local.zip_path), null)
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  memory_size      = var.memory_size
  # The longest one stream connection may stay open; a client resumes from its last offset after.
  timeout = var.timeout_seconds

  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      TABLE_NAME              = var.table_name
      STATE_MACHINE_ARN       = var.state_machine_arn
      POLL_INTERVAL_MS        = tostring(var.poll_interval_ms)
      MAX_POLL_INTERVAL_MS    = tostring(var.max_poll_interval_ms)
      STREAM_TIMEOUT_SECONDS  = tostring(var.idle_timeout_seconds)
      HEARTBEAT_SECONDS       = tostring(var.heartbeat_seconds)
      LONG_POLL_SECONDS       = tostring(var.long_poll_seconds)
      PAGE_SIZE               = tostring(var.page_size)
      DEADLINE_MARGIN_MS      = tostring(var.deadline_margin_ms)
      FINAL_RESULT_FIELD_NAME = var.final_result_field_name
      POWERTOOLS_LOG_LEVEL    = var.powertools_log_level
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.idle_timeout_seconds * 1000 + var.deadline_margin_ms < var.timeout_seconds * 1000
      error_message = "idle_timeout_seconds plus deadline_margin_ms must be shorter than timeout_seconds, or a stream would hit the Lambda deadline before it could report an idle execution."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_function_url" "this" {
  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.authorization_type
  invoke_mode        = "RESPONSE_STREAM"

  dynamic "cors" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []

    content {
      allow_origins     = var.cors_allow_origins
      allow_methods     = ["GET", "HEAD"]
      allow_headers     = var.cors_allow_headers
      expose_headers    = var.cors_expose_headers
      allow_credentials = false
      max_age           = var.cors_max_age_seconds
    }
  }
}

check "streamer_zip_built" {
  assert {
    condition     = fileexists(local.zip_path)
    error_message = "${local.zip_path} does not exist: run `make build` first (it builds the Lambda zips Terraform deploys)."
  }
}
