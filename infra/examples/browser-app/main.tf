################################################################################
# Example: the four modules composed by hand for a browser app on its own origin,
# with a year of logs and an account whose API Gateway CloudWatch role exists.
#
#   make build
#   terraform -chdir=infra/examples/browser-app init
#   terraform -chdir=infra/examples/browser-app apply
################################################################################

provider "aws" {
  region = var.aws_region
}

locals {
  name    = "stepstream-web"
  origins = ["https://app.example.com", "http://localhost:5173"]
  tags    = { Project = "stepstream", Example = "browser-app" }
}

module "results_table" {
  source = "../../modules/results-table"

  name = "${local.name}-results"
  tags = local.tags
}

module "workflow" {
  source = "../../modules/workflow"

  name               = "${local.name}-workflow"
  table_name         = module.results_table.dynamodb_table_name
  table_arn          = module.results_table.dynamodb_table_arn
  steps_zip_path     = "../../../packages/steps/dist/steps.zip"
  log_retention_days = 365
  tags               = local.tags
}

module "stream_url" {
  source = "../../modules/stream-url"

  name               = "${local.name}-streamer"
  table_name         = module.results_table.dynamodb_table_name
  table_arn          = module.results_table.dynamodb_table_arn
  state_machine_arn  = module.workflow.state_machine_arn
  streamer_zip_path  = "../../../packages/streamer/dist/streamer.zip"
  cors_allow_origins = local.origins
  log_retention_days = 365
  tags               = local.tags
}

module "start_api" {
  source = "../../modules/start-api"

  name                           = "${local.name}-api"
  state_machine_arn              = module.workflow.state_machine_arn
  stream_url                     = module.stream_url.lambda_function_url
  cors_allow_origins             = local.origins
  manage_account_cloudwatch_role = false
  log_retention_days             = 365
  tags                           = local.tags
}
