output "lambda_function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.this.arn
}

output "lambda_function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_environment" {
  description = "Environment variables of the function."
  value       = aws_lambda_function.this.environment[0].variables
}

output "lambda_role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "lambda_role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "cloudwatch_log_group_name" {
  description = "Log group of the function (/aws/lambda/<name>)."
  value       = aws_cloudwatch_log_group.this.name
}

output "reserved_concurrency" {
  description = "The function's reserved concurrency, or null when it has none."
  value       = local.reserved ? var.reserved_concurrency : null
}
