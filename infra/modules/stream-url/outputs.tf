output "lambda_function_url" {
  description = "The Function URL (ends with \"/\"): GET <url>?executionArn=<url-encoded ARN> with SigV4 (service lambda)."
  value       = aws_lambda_function_url.this.function_url
}

output "lambda_function_url_id" {
  description = "Generated ID of the Function URL."
  value       = aws_lambda_function_url.this.url_id
}

output "lambda_function_arn" {
  description = "ARN of the streamer Lambda (callers need lambda:InvokeFunctionUrl and lambda:InvokeFunction on it)."
  value       = module.lambda.lambda_function_arn
}

output "lambda_function_name" {
  description = "Name of the streamer Lambda."
  value       = module.lambda.lambda_function_name
}

output "lambda_role_arn" {
  description = "ARN of the streamer's IAM role."
  value       = module.lambda.lambda_role_arn
}

output "cloudwatch_log_group_name" {
  description = "Log group of the streamer."
  value       = module.lambda.cloudwatch_log_group_name
}

output "reserved_concurrency" {
  description = "The streamer's reserved concurrency, or null when it has none."
  value       = module.lambda.reserved_concurrency
}

output "stream_limits" {
  description = "The streamer's bounds as its environment carries them, seconds: max_connection_seconds (a resumable connection, then the client resumes), max_execution_seconds (an execution's latest write after its start), idle_timeout_seconds (no new record), timeout_seconds (the function's)."
  value = {
    max_connection_seconds = tonumber(module.lambda.lambda_function_environment.MAX_CONNECTION_SECONDS)
    max_execution_seconds  = tonumber(module.lambda.lambda_function_environment.MAX_EXECUTION_SECONDS)
    idle_timeout_seconds   = tonumber(module.lambda.lambda_function_environment.STREAM_TIMEOUT_SECONDS)
    timeout_seconds        = var.timeout_seconds
  }
}
