output "state_machine_arn" {
  description = "ARN of the Express state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the Express state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_definition" {
  description = "The ASL definition as rendered from templates/workflow.asl.json.tftpl."
  value       = aws_sfn_state_machine.this.definition
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = aws_iam_role.this.arn
}

output "lambda_function_arn" {
  description = "ARN of the step Lambda."
  value       = aws_lambda_function.steps.arn
}

output "lambda_function_name" {
  description = "Name of the step Lambda."
  value       = aws_lambda_function.steps.function_name
}

output "lambda_role_arn" {
  description = "ARN of the step Lambda's IAM role."
  value       = aws_iam_role.steps.arn
}

output "cloudwatch_log_group_names" {
  description = "Log groups of this module: state machine and step Lambda."
  value = {
    state_machine = aws_cloudwatch_log_group.this.name
    steps         = aws_cloudwatch_log_group.steps.name
  }
}
