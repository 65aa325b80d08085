output "api_endpoint" {
  description = "Start API endpoint: POST a JSON object (the workflow input) here, signed with SigV4 (service execute-api) unless api_authorization is NONE."
  value       = module.start_api.stage_invoke_url
}

output "stream_url" {
  description = "Streaming Function URL (ends with \"/\"): GET <url>?executionArn=<url-encoded ARN>, signed with SigV4 (service lambda)."
  value       = module.stream_url.lambda_function_url
}

output "table_name" {
  description = "Name of the results table."
  value       = module.results_table.dynamodb_table_name
}

output "state_machine_arn" {
  description = "ARN of the Express state machine."
  value       = module.workflow.state_machine_arn
}

output "client_config" {
  description = "Everything the client and CLI need, in one object (camelCase keys; the local stack writes the same shape to .local/outputs.json)."
  value = {
    apiEndpoint      = module.start_api.stage_invoke_url
    streamUrl        = module.stream_url.lambda_function_url
    region           = var.aws_region
    tableName        = module.results_table.dynamodb_table_name
    stateMachineArn  = module.workflow.state_machine_arn
    apiAuthorization = module.start_api.method_authorization
  }
}

output "caller_policy_json" {
  description = "Least-privilege IAM policy for an identity that uses this stack: execute-api:Invoke on POST /, lambda:InvokeFunctionUrl and lambda:InvokeFunction on the streamer."
  value       = data.aws_iam_policy_document.caller.json
}

output "log_group_names" {
  description = "Every log group of the stack."
  value = merge(
    { for k, v in module.workflow.cloudwatch_log_group_names : "workflow_${k}" => v },
    { streamer = module.stream_url.cloudwatch_log_group_name },
    { for k, v in module.start_api.cloudwatch_log_group_names : "api_${k}" => v },
  )
}
