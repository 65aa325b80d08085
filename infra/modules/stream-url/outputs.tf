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
