output "api_endpoint" {
  description = "Start API endpoint: POST a JSON object (the workflow input) here, signed with SigV4 (service execute-api) unless api_authorization is NONE."
  value       = module.stepstream.api_endpoint
}

output "stream_url" {
  description = "Streaming Function URL (ends with \"/\"): GET <url>?executionArn=<url-encoded ARN>, signed with SigV4 (service lambda)."
  value       = module.stepstream.stream_url
}

output "table_name" {
  description = "Name of the results table."
  value       = module.stepstream.table_name
}

output "state_machine_arn" {
  description = "ARN of the Express state machine."
  value       = module.stepstream.state_machine_arn
}

output "client_config" {
  description = "Everything the client and CLI need, in one object (camelCase keys; the local stack writes the same shape to .local/outputs.json)."
  value       = module.stepstream.client_config
}

output "caller_policy_json" {
  description = "Least-privilege IAM policy for an identity that uses this stack: execute-api:Invoke on POST /, lambda:InvokeFunctionUrl on the streamer, and lambda:InvokeFunction on it only via its function URL."
  value       = module.stepstream.caller_policy_json
}

output "writer_policy_json" {
  description = "The IAM policy a writer of results needs (what putResult does on the table and its index), for anything else that writes."
  value       = module.stepstream.writer_policy_json
}

output "log_group_names" {
  description = "Every log group of the stack."
  value       = module.stepstream.log_group_names
}
