################################################################################
# Workflow: an Express state machine (by default the simulated workflow, from the
# one ASL template the local stack also runs) and the Lambda functions it invokes.
################################################################################

locals {
  # The simulated workflow (the AWS sample's): its ASL template and its one step function. A
  # consumer passes its own definition and functions instead.
  simulated = var.definition == null && var.definition_template == null && var.functions == null
  # Functions without an ASL: refused by the state machine's precondition below, with a message.
  no_definition = var.definition == null && var.definition_template == null && var.functions != null

  simulated_functions = {
    steps = {
      zip_path             = var.steps_zip_path
      handler              = var.steps_handler
      description          = "stepstream step Lambda: plans runs and writes each result to the results table."
      memory_size          = var.steps_memory_size
      timeout_seconds      = var.steps_timeout_seconds
      reserved_concurrency = var.steps_reserved_concurrency
      # The Plan step refuses a concurrency above the reservation (it would be throttled).
      environment    = var.steps_reserved_concurrency == null || var.steps_reserved_concurrency == -1 ? {} : { MAX_CONCURRENCY = tostring(var.steps_reserved_concurrency) }
      writes_results = true
    }
  }

  functions = var.functions != null ? var.functions : (local.simulated ? local.simulated_functions : {})

  # What every deployed function is told about the results table (putResult reads it).
  results_environment = {
    TABLE_NAME              = var.table_name
    RESULT_TTL_DAYS         = tostring(var.result_ttl_days)
    FINAL_RESULT_FIELD_NAME = var.final_result_field_name
    POWERTOOLS_LOG_LEVEL    = var.powertools_log_level
  }

  # Every function the state machine may invoke, by key: the ones deployed here and the caller's.
  function_arns = merge(
    var.lambda_function_arns,
    { for k, f in module.functions : k => f.lambda_function_arn },
  )

  template_variables = merge(
    local.simulated ? { step_wait_seconds = var.step_wait_seconds } : {},
    var.definition_variables,
    { for k, arn in local.function_arns : "${k}_function_arn" => arn },
  )

  definition = var.definition != null ? var.definition : local.no_definition ? "{\"States\":{}}" : templatefile(
    var.definition_template != null ? var.definition_template : "${path.module}/templates/workflow.asl.json.tftpl",
    local.template_variables,
  )
}

################################################################################
# Writers: exactly what putResult needs on the results table
################################################################################

data "aws_iam_policy_document" "writer" {
  # putResult's transactions: Put (records, key items, staged records, the staging marker), Delete
  # (a combined record's staged item, the marker) and ConditionCheck (the marker; a staged record's
  # predecessor). TransactWriteItems is authorized per action (DynamoDB Developer Guide, "Using IAM
  # with DynamoDB transactions").
  statement {
    sid       = "AppendResults"
    effect    = "Allow"
    actions   = ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
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
}

################################################################################
# The workflow's functions (zips deployed here), each with its role and log group
################################################################################

module "functions" {
  source   = "../lambda"
  for_each = local.functions

  name             = "${var.name}-${each.key}"
  description      = coalesce(try(each.value.description, null), "${var.name}: ${each.key}")
  role_description = "Function ${each.key} of ${var.name}${try(each.value.writes_results, true) ? ": writes results to its own table, and logs" : ": logs"}."
  policy_json      = try(each.value.writes_results, true) ? data.aws_iam_policy_document.writer.json : null

  zip_path             = each.value.zip_path
  handler              = coalesce(try(each.value.handler, null), "index.handler")
  runtime              = var.runtime
  architectures        = var.architectures
  memory_size          = coalesce(try(each.value.memory_size, null), 256)
  timeout_seconds      = coalesce(try(each.value.timeout_seconds, null), 60)
  reserved_concurrency = try(each.value.reserved_concurrency, null)
  kms_key_arn          = var.kms_key_arn
  environment          = merge(local.results_environment, coalesce(try(each.value.environment, null), {}))

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = var.tags
}

# Roles of the caller's own writers (Lambda functions deployed elsewhere, containers, tasks) get
# the same writer policy.
resource "aws_iam_role_policy" "writers" {
  for_each = var.writer_role_arns

  name   = "${var.name}-write-results"
  role   = element(split("/", each.value), length(split("/", each.value)) - 1)
  policy = data.aws_iam_policy_document.writer.json
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
  description          = "State machine ${var.name}: invokes its own functions, delivers its logs and traces."
  assume_role_policy   = data.aws_iam_policy_document.states_assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0057
data "aws_iam_policy_document" "this" {
  # checkov:skip=CKV_AWS_109:logs:PutResourcePolicy is one of the log-delivery actions Step Functions logging needs; it supports no resource-level permission, so AWS offers nothing narrower than "*".
  # checkov:skip=CKV_AWS_111:The statements with Resource "*" are the CloudWatch Logs log-delivery actions Step Functions logging needs and X-Ray's tracing actions: AWS offers no resource-level permission for either.
  # checkov:skip=CKV_AWS_356:Same statements: AWS offers nothing narrower than "*" for the log-delivery and X-Ray actions.
  # The caller's own service integrations (SNS, SQS, another state machine...), if any.
  source_policy_documents = var.state_machine_policy_json == null ? [] : [var.state_machine_policy_json]

  statement {
    sid       = "InvokeOwnFunctions"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = flatten([for arn in values(local.function_arns) : [arn, "${arn}:*"]])
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

  lifecycle {
    precondition {
      condition     = !local.no_definition
      error_message = "Give the workflow's ASL: definition_template (a file rendered with templatefile()) or definition (a rendered JSON string)."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

