################################################################################
# stepstream on AWS: results table, Express workflow (ASL + step Lambda), start
# API (REST -> StartExecution) and streaming Function URL.
#
#   make build && terraform -chdir=infra init && terraform -chdir=infra apply
################################################################################

provider "aws" {
  region = var.aws_region
}

locals {
  tags = merge({ Project = "stepstream", ManagedBy = "terraform" }, var.tags)
}

module "results_table" {
  source = "./modules/results-table"

  name                           = "${var.name_prefix}-results"
  kms_key_arn                    = var.kms_key_arn
  point_in_time_recovery_enabled = true
  deletion_protection_enabled    = var.deletion_protection_enabled

  tags = local.tags
}

module "workflow" {
  source = "./modules/workflow"

  name        = "${var.name_prefix}-workflow"
  table_name  = module.results_table.dynamodb_table_name
  table_arn   = module.results_table.dynamodb_table_arn
  kms_key_arn = var.kms_key_arn

  steps_zip_path             = var.steps_zip_path
  steps_reserved_concurrency = var.steps_reserved_concurrency
  step_wait_seconds          = var.step_wait_seconds
  final_result_field_name    = var.final_result_field_name
  result_ttl_days            = var.result_ttl_days
  powertools_log_level       = var.log_level
  logging_level              = var.state_machine_logging_level
  include_execution_data     = var.include_execution_data

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = local.tags
}

module "stream_url" {
  source = "./modules/stream-url"

  name              = "${var.name_prefix}-streamer"
  table_name        = module.results_table.dynamodb_table_name
  table_arn         = module.results_table.dynamodb_table_arn
  kms_key_arn       = var.kms_key_arn
  state_machine_arn = module.workflow.state_machine_arn

  streamer_zip_path       = var.streamer_zip_path
  timeout_seconds         = var.streamer_lambda_timeout_seconds
  idle_timeout_seconds    = var.stream_timeout_seconds
  poll_interval_ms        = var.poll_interval_ms
  max_poll_interval_ms    = var.max_poll_interval_ms
  final_result_field_name = var.final_result_field_name
  powertools_log_level    = var.log_level
  reserved_concurrency    = var.streamer_reserved_concurrency
  cors_allow_origins      = var.cors_allow_origins

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = local.tags
}

module "start_api" {
  source = "./modules/start-api"

  name              = "${var.name_prefix}-api"
  state_machine_arn = module.workflow.state_machine_arn
  stream_url        = module.stream_url.lambda_function_url

  authorization                  = var.api_authorization
  throttling_burst_limit         = var.api_throttling_burst_limit
  throttling_rate_limit          = var.api_throttling_rate_limit
  cors_allow_origins             = var.cors_allow_origins
  manage_account_cloudwatch_role = var.manage_api_gateway_account_cloudwatch_role
  web_acl_arn                    = var.api_web_acl_arn

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = local.tags
}

# What a caller (person, CI role, app backend) needs to use this stack: start through the API,
# read through the stream URL. Attach it to the identity that runs the client or CLI.
data "aws_iam_policy_document" "caller" {
  statement {
    sid       = "StartWorkflow"
    effect    = "Allow"
    actions   = ["execute-api:Invoke"]
    resources = [module.start_api.stage_start_invoke_arn]
  }

  statement {
    sid       = "StreamResults"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"]
    resources = [module.stream_url.lambda_function_arn]
  }
}
