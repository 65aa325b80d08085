################################################################################
# Workflow: the Express state machine (from the one ASL template the local stack
# also runs) and the step Lambda it invokes.
################################################################################

locals {
  steps_function_name = "${var.name}-steps"

  zip_path = startswith(var.steps_zip_path, "/") ? var.steps_zip_path : "${path.root}/${var.steps_zip_path}"

  definition = templatefile("${path.module}/templates/workflow.asl.json.tftpl", {
    steps_function_arn = aws_lambda_function.steps.arn
    step_wait_seconds  = var.step_wait_seconds
  })
}

################################################################################
# Step Lambda
################################################################################

#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "steps" {
  # checkov:skip=CKV_AWS_158:Log groups use the CloudWatch Logs default encryption unless var.cloudwatch_logs_kms_key_arn is set (a key needs a key policy for logs.<region>.amazonaws.com, which this module cannot write for you).
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (default 30): the logs describe short-lived results (result_ttl_days); set 365 or more where a compliance regime asks for a year.
  name              = "/aws/lambda/${local.steps_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
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

resource "aws_iam_role" "steps" {
  name                 = "${var.name}-steps"
  description          = "Step Lambda of ${var.name}: writes results to its own table, and logs."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0057
data "aws_iam_policy_document" "steps" {
  # checkov:skip=CKV_AWS_111:The only statement with Resource "*" is X-Ray's PutTraceSegments/PutTelemetryRecords/GetSampling*, which support no resource-level permission; every other statement names this stack's table, index, key or log group.
  # checkov:skip=CKV_AWS_356:Same X-Ray statement: AWS offers nothing narrower than "*" for these actions.
  statement {
    sid       = "AppendResults"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem"]
    resources = [var.table_arn]
  }

  statement {
    sid     = "ReadResultsAndIdempotencyIndex"
    effect  = "Allow"
    actions = ["dynamodb:Query"]
    resources = [
      var.table_arn,
      "${var.table_arn}/index/ByRecordKey",
    ]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "UseTableKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.steps.arn}:*"]
  }

  # X-Ray has no resource-level permissions: AWS offers nothing narrower than "*" here.
  statement {
    sid       = "XRayTracing"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "steps" {
  name   = "${var.name}-steps"
  role   = aws_iam_role.steps.id
  policy = data.aws_iam_policy_document.steps.json
}

resource "aws_lambda_function" "steps" {
  # checkov:skip=CKV_AWS_116:The step Lambda is invoked synchronously by Step Functions (lambda:invoke); a failed invoke is retried by the state machine and caught into a terminal error record, so a dead-letter queue would never receive anything.
  # checkov:skip=CKV_AWS_117:The function talks only to DynamoDB, CloudWatch and X-Ray over IAM-authenticated public endpoints; a VPC would add NAT or interface endpoints (cost) and no protection for this data.
  # checkov:skip=CKV_AWS_173:The environment holds only non-secret settings (table name, TTL, field name, log level), encrypted at rest by Lambda with an AWS managed key; set var.kms_key_arn to use a customer managed key.
  # checkov:skip=CKV_AWS_272:The zip is built from this repository by `make build`; code signing needs an AWS Signer profile and a signed S3 artifact, out of scope for a self-deployed stack.
  function_name = local.steps_function_name
  description   = "stepstream step Lambda: plans runs and writes each result to the results table."
  role          = aws_iam_role.steps.arn

  filename = local.zip_path
  # try(): `terraform destroy` must work after `make clean` too; a missing zip still fails apply
  # (the provider cannot read it) after the check below has said why.
  source_code_hash = try(filebase64sha256(local.zip_path), null)
  handler          = var.steps_handler
  runtime          = var.runtime
  architectures    = var.architectures
  memory_size      = var.steps_memory_size
  timeout          = var.steps_timeout_seconds

  reserved_concurrent_executions = var.steps_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      TABLE_NAME              = var.table_name
      RESULT_TTL_DAYS         = tostring(var.result_ttl_days)
      FINAL_RESULT_FIELD_NAME = var.final_result_field_name
      POWERTOOLS_LOG_LEVEL    = var.powertools_log_level
    }
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.steps.name
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.steps]
}

################################################################################
# State machine
################################################################################

#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:Log groups use the CloudWatch Logs default encryption unless var.cloudwatch_logs_kms_key_arn is set (a key needs a key policy for logs.<region>.amazonaws.com, which this module cannot write for you).
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (default 30): the logs describe short-lived results (result_ttl_days); set 365 or more where a compliance regime asks for a year.
  # Step Functions vended logs: a /aws/vendedlogs/ name keeps the log resource policy small.
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    sid     = "StatesAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # No aws:SourceArn condition: a role can only be attached to a state machine by a principal of
    # this account holding iam:PassRole, and a condition Step Functions does not send at creation
    # time would make the deploy fail where nothing offline can show it.
  }
}

resource "aws_iam_role" "this" {
  name                 = "${var.name}-states"
  description          = "State machine ${var.name}: invokes its own step Lambda, delivers its logs and traces."
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0057
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_109:logs:PutResourcePolicy is one of the log-delivery actions Step Functions logging needs; it supports no resource-level permission, so AWS offers nothing narrower than "*".
  # checkov:skip=CKV_AWS_111:The statements with Resource "*" are the CloudWatch Logs log-delivery actions Step Functions logging needs and X-Ray's tracing actions: AWS offers no resource-level permission for either.
  # checkov:skip=CKV_AWS_356:Same statements: AWS offers nothing narrower than "*" for the log-delivery and X-Ray actions.
  statement {
    sid     = "InvokeOwnStepFunction"
    effect  = "Allow"
    actions = ["lambda:InvokeFunction"]
    resources = [
      aws_lambda_function.steps.arn,
      "${aws_lambda_function.steps.arn}:*",
    ]
  }

  # Step Functions delivers logs through CloudWatch Logs "vended log" deliveries. These
  # actions do not support resource-level permissions: AWS offers nothing narrower than "*".
  statement {
    sid    = "DeliverExecutionLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
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
  name   = "${var.name}-states"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  type       = "EXPRESS"
  role_arn   = aws_iam_role.this.arn
  definition = local.definition

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.logging_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

check "steps_zip_built" {
  assert {
    condition     = fileexists(local.zip_path)
    error_message = "${local.zip_path} does not exist: run `make build` first (it builds the Lambda zips Terraform deploys)."
  }
}
