################################################################################
# stepstream on AWS, with the AWS sample's simulated workflow: one consumer of
# modules/stepstream (the module a team calls with its own workflow), deploying
# the same ASL template and the same Lambda zips the local stack runs.
#
#   make build && terraform -chdir=infra init && terraform -chdir=infra apply
################################################################################

provider "aws" {
  region = var.aws_region
}

locals {
  tags = merge({ Project = "stepstream", ManagedBy = "terraform" }, var.tags)

  steps_reserved = var.steps_reserved_concurrency != null && var.steps_reserved_concurrency != -1

  # The simulated workflow's request model (the file the local stack validates with); with a
  # reservation on the step function, `concurrency` may not exceed it (more would be throttled).
  simulated_model = jsondecode(file("${path.module}/modules/start-api/templates/workflow-input.schema.json"))
  request_model_schema = local.steps_reserved ? jsonencode(merge(local.simulated_model, {
    properties = merge(local.simulated_model.properties, {
      concurrency = merge(local.simulated_model.properties.concurrency, {
        maximum = min(local.simulated_model.properties.concurrency.maximum, var.steps_reserved_concurrency)
      })
    })
  })) : file("${path.module}/modules/start-api/templates/workflow-input.schema.json")
}

module "stepstream" {
  source = "./modules/stepstream"

  name = var.name_prefix

  # The workflow: the one ASL template, and its one step function (plan, step, fail).
  definition_template  = "${path.module}/modules/workflow/templates/workflow.asl.json.tftpl"
  definition_variables = { step_wait_seconds = var.step_wait_seconds }
  functions = {
    steps = {
      zip_path             = var.steps_zip_path
      description          = "stepstream step Lambda: plans runs and writes each result to the results table."
      timeout_seconds      = 150
      reserved_concurrency = var.steps_reserved_concurrency
      # The Plan step refuses a concurrency above the reservation.
      environment = local.steps_reserved ? { MAX_CONCURRENCY = tostring(var.steps_reserved_concurrency) } : {}
    }
  }
  request_model_schema = local.request_model_schema

  kms_key_arn                 = var.kms_key_arn
  deletion_protection_enabled = var.deletion_protection_enabled
  final_result_field_name     = var.final_result_field_name
  result_ttl_days             = var.result_ttl_days
  log_level                   = var.log_level
  state_machine_logging_level = var.state_machine_logging_level
  include_execution_data      = var.include_execution_data

  streamer_zip_path               = var.streamer_zip_path
  streamer_lambda_timeout_seconds = var.streamer_lambda_timeout_seconds
  stream_timeout_seconds          = var.stream_timeout_seconds
  stream_max_connection_seconds   = var.stream_max_connection_seconds
  stream_max_execution_seconds    = var.stream_max_execution_seconds
  poll_interval_ms                = var.poll_interval_ms
  max_poll_interval_ms            = var.max_poll_interval_ms
  streamer_reserved_concurrency   = var.streamer_reserved_concurrency

  api_authorization                          = var.api_authorization
  api_throttling_burst_limit                 = var.api_throttling_burst_limit
  api_throttling_rate_limit                  = var.api_throttling_rate_limit
  cors_allow_origins                         = var.cors_allow_origins
  manage_api_gateway_account_cloudwatch_role = var.manage_api_gateway_account_cloudwatch_role
  api_web_acl_arn                            = var.api_web_acl_arn

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = local.tags
}
