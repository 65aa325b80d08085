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
  value       = aws_lambda_function.this.arn
}

output "lambda_function_name" {
  description = "Name of the streamer Lambda."
  value       = aws_lambda_function.this.function_name
}

output "lambda_role_arn" {
  description = "ARN of the streamer's IAM role."
  value       = aws_iam_role.this.arn
}

output "cloudwatch_log_group_name" {
  description = "Log group of the streamer."
  value       = aws_cloudwatch_log_group.this.name
}
