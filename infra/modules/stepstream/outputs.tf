output "api_endpoint" {
  description = "Start API endpoint: POST a JSON object (the workflow input) here, signed with SigV4 (service execute-api) unless api_authorization is NONE."
  value       = module.start_api.stage_invoke_url
}

output "stream_url" {
  description = "Streaming Function URL (ends with \"/\"): GET <url>?executionArn=<url-encoded ARN>, signed with SigV4 (service lambda)."
  value       = module.stream_url.lambda_function_url

  precondition {
    # An execution that no Catch could end (its own TimeoutSeconds, States.Runtime) writes no terminal
    # record: its readers end at this bound, so it must not fall inside the run.
    condition     = var.stream_max_execution_seconds > try(jsondecode(module.workflow.state_machine_definition).TimeoutSeconds, 300)
    error_message = "stream_max_execution_seconds (${var.stream_max_execution_seconds}) must be longer than the state machine's TimeoutSeconds (${try(jsondecode(module.workflow.state_machine_definition).TimeoutSeconds, 300)}; Express runs at most 300 s), or readers of a live run would get a timeout record while it still writes."
  }
}

output "table_name" {
  description = "Name of the results table."
  value       = module.results_table.dynamodb_table_name
}

output "table_arn" {
  description = "ARN of the results table."
  value       = module.results_table.dynamodb_table_arn
}

output "state_machine_arn" {
  description = "ARN of the Express state machine."
  value       = module.workflow.state_machine_arn
}

output "state_machine_definition" {
  description = "The ASL definition as deployed."
  value       = module.workflow.state_machine_definition
}

output "lambda_function_arns" {
  description = "ARNs of the functions the state machine may invoke, by key."
  value       = module.workflow.lambda_function_arns
}

output "lambda_role_arns" {
  description = "ARNs of the IAM roles of the functions deployed from zips, by key."
  value       = module.workflow.lambda_role_arns
}

output "streamer_function_arn" {
  description = "ARN of the streamer Lambda behind the stream URL."
  value       = module.stream_url.lambda_function_arn
}

output "writer_policy_json" {
  description = "The IAM policy a writer of results needs (PutItem, DeleteItem, ConditionCheckItem and Query on the table, Query on its ByRecordKey index, the table's key if any): attach it to anything else that writes (containers, ECS tasks, roles of other accounts)."
  value       = module.workflow.writer_policy_json
}

output "caller_policy_json" {
  description = "Least-privilege IAM policy for an identity that uses this stack: execute-api:Invoke on POST /, lambda:InvokeFunctionUrl on the streamer (AWS_IAM URLs), lambda:InvokeFunction on it only via its function URL."
  value       = data.aws_iam_policy_document.caller.json
}

output "client_config" {
  description = "Everything the client and CLI need, in one object (camelCase keys; the local stack writes the same shape to .local/outputs.json)."
  value = {
    apiEndpoint      = module.start_api.stage_invoke_url
    streamUrl        = module.stream_url.lambda_function_url
    region           = split(":", module.workflow.state_machine_arn)[3]
    tableName        = module.results_table.dynamodb_table_name
    stateMachineArn  = module.workflow.state_machine_arn
    apiAuthorization = module.start_api.method_authorization
  }
}

output "log_group_names" {
  description = "Every log group of the stack."
  value = merge(
    { for k, v in module.workflow.cloudwatch_log_group_names : "workflow_${k}" => v },
    { streamer = module.stream_url.cloudwatch_log_group_name },
    { for k, v in module.start_api.cloudwatch_log_group_names : "api_${k}" => v },
  )
}

output "reserved_concurrency" {
  description = "Reservations asked for, by function (streamer included); empty when none (the default)."
  value       = local.reservations
}

output "request_model_schema" {
  description = "The start API's request model (JSON Schema draft-04): give the local stack the same document (--request-model FILE)."
  value       = module.start_api.request_model_schema
}

output "stream_limits" {
  description = "The streamer's bounds, seconds: max_connection_seconds (a resumable connection, then the client resumes), max_execution_seconds (an execution's latest write after its start), idle_timeout_seconds, timeout_seconds (the streamer function's)."
  value       = module.stream_url.stream_limits
}
