output "client_config" {
  description = "What the browser app's client needs (camelCase, as the root module's client_config)."
  value = {
    apiEndpoint      = module.start_api.stage_invoke_url
    streamUrl        = module.stream_url.lambda_function_url
    region           = var.aws_region
    tableName        = module.results_table.dynamodb_table_name
    stateMachineArn  = module.workflow.state_machine_arn
    apiAuthorization = module.start_api.method_authorization
  }
}
