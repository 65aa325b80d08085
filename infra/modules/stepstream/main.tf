################################################################################
# stepstream for your own workflow: one call deploys the results table, your
# Express state machine (your ASL, your functions), the start API (your request
# model) and the streaming Function URL, and grants your writers exactly what
# appending a result needs.
################################################################################

locals {
  request_model_schema = var.request_model_schema != null ? var.request_model_schema : file("${path.module}/templates/default-input.schema.json")

  # Reservations asked for, by function: the account must keep 100 unreserved on top of them
  # (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html).
  reservations = merge(
    { for k, f in coalesce(var.functions, {}) : k => f.reserved_concurrency if try(f.reserved_concurrency, null) != null && try(f.reserved_concurrency, -1) != -1 },
    var.streamer_reserved_concurrency == null || var.streamer_reserved_concurrency == -1 ? {} : { streamer = var.streamer_reserved_concurrency },
  )
  reserved_total = sum(concat([0], values(local.reservations)))
}

module "results_table" {
  source = "../results-table"

  name                           = "${var.name}-results"
  kms_key_arn                    = var.kms_key_arn
  point_in_time_recovery_enabled = var.point_in_time_recovery_enabled
  deletion_protection_enabled    = var.deletion_protection_enabled

  tags = var.tags
}

module "workflow" {
  source = "../workflow"

  name        = "${var.name}-workflow"
  table_name  = module.results_table.dynamodb_table_name
  table_arn   = module.results_table.dynamodb_table_arn
  kms_key_arn = var.kms_key_arn

  definition                = var.definition
  definition_template       = var.definition_template
  definition_variables      = var.definition_variables
  functions                 = var.functions
  lambda_function_arns      = var.lambda_function_arns
  writer_role_arns          = var.writer_role_arns
  state_machine_policy_json = var.state_machine_policy_json

  runtime                 = var.runtime
  architectures           = var.architectures
  final_result_field_name = var.final_result_field_name
  result_ttl_days         = var.result_ttl_days
  powertools_log_level    = var.log_level
  logging_level           = var.state_machine_logging_level
  include_execution_data  = var.include_execution_data

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = var.tags
}

module "stream_url" {
  source = "../stream-url"

  name              = "${var.name}-streamer"
  table_name        = module.results_table.dynamodb_table_name
  table_arn         = module.results_table.dynamodb_table_arn
  kms_key_arn       = var.kms_key_arn
  state_machine_arn = module.workflow.state_machine_arn

  streamer_zip_path       = var.streamer_zip_path
  timeout_seconds         = var.streamer_lambda_timeout_seconds
  idle_timeout_seconds    = var.stream_timeout_seconds
  max_connection_seconds  = var.stream_max_connection_seconds
  max_execution_seconds   = var.stream_max_execution_seconds
  poll_interval_ms        = var.poll_interval_ms
  max_poll_interval_ms    = var.max_poll_interval_ms
  final_result_field_name = var.final_result_field_name
  powertools_log_level    = var.log_level
  reserved_concurrency    = var.streamer_reserved_concurrency
  cors_allow_origins      = var.cors_allow_origins

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = var.tags
}

module "start_api" {
  source = "../start-api"

  name                 = "${var.name}-api"
  state_machine_arn    = module.workflow.state_machine_arn
  stream_url           = module.stream_url.lambda_function_url
  request_model_schema = local.request_model_schema

  authorization                  = var.api_authorization
  throttling_burst_limit         = var.api_throttling_burst_limit
  throttling_rate_limit          = var.api_throttling_rate_limit
  cors_allow_origins             = var.cors_allow_origins
  manage_account_cloudwatch_role = var.manage_api_gateway_account_cloudwatch_role
  web_acl_arn                    = var.api_web_acl_arn

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = var.tags
}

################################################################################
# Reserved concurrency is opt-in: when asked for, the account quota is checked first
################################################################################

# Lambda's "Concurrent executions" quota (L-B99A9384) in this region. Read only when a reservation
# is asked for (it needs servicequotas:GetServiceQuota); set check_concurrency_quota = false to skip.
data "aws_servicequotas_service_quota" "lambda_concurrency" {
  count = var.check_concurrency_quota && local.reserved_total > 0 ? 1 : 0

  service_code = "lambda"
  quota_code   = "L-B99A9384"

  lifecycle {
    postcondition {
      condition     = self.value >= local.reserved_total + 100
      error_message = "This account's Lambda concurrency quota in this region is ${self.value}; the reservations asked for (${jsonencode(local.reservations)}, ${local.reserved_total} in all) plus the 100 AWS keeps unreserved (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html) need ${local.reserved_total + 100}. Lower or remove the reservations (null), or ask for a quota increase (Service Quotas, L-B99A9384)."
    }
  }
}

################################################################################
# What a caller needs: start through the API, read through the stream URL
################################################################################

data "aws_iam_policy_document" "caller" {
  statement {
    sid       = "StartWorkflow"
    effect    = "Allow"
    actions   = ["execute-api:Invoke"]
    resources = [module.start_api.stage_start_invoke_arn]
  }

  statement {
    sid       = "StreamResultsViaFunctionUrl"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [module.stream_url.lambda_function_arn]

    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }

  # Since October 2025 a new function URL also needs lambda:InvokeFunction
  # (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); the condition keeps it to calls
  # through the function URL, so the caller cannot invoke the streamer directly.
  statement {
    sid       = "InvokeStreamerOnlyViaFunctionUrl"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.stream_url.lambda_function_arn]

    condition {
      test     = "Bool"
      variable = "lambda:InvokedViaFunctionUrl"
      values   = ["true"]
    }
  }
}
