output "state_machine_arn" {
  description = "ARN of the Express state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the Express state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_definition" {
  description = "The ASL definition as deployed (rendered from the template, or given)."
  value       = aws_sfn_state_machine.this.definition
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = aws_iam_role.this.arn
}

output "lambda_function_arns" {
  description = "ARNs of every function the state machine may invoke, by key (the ones deployed here and lambda_function_arns)."
  value       = local.function_arns
}

output "lambda_role_arns" {
  description = "ARNs of the IAM roles of the functions deployed here, by key."
  value       = { for k, f in module.functions : k => f.lambda_role_arn }
}

output "lambda_function_arn" {
  description = "ARN of the simulated workflow's step Lambda (the function keyed steps), or null."
  value       = try(module.functions["steps"].lambda_function_arn, null)
}

output "lambda_function_name" {
  description = "Name of the simulated workflow's step Lambda (the function keyed steps), or null."
  value       = try(module.functions["steps"].lambda_function_name, null)
}

output "lambda_role_arn" {
  description = "ARN of the step Lambda's IAM role (the function keyed steps), or null."
  value       = try(module.functions["steps"].lambda_role_arn, null)
}

output "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each function deployed here, by key (null: none)."
  value       = { for k, f in module.functions : k => f.reserved_concurrency }
}

output "writer_policy_json" {
  description = "The IAM policy a writer of results needs (what putResult does on the table and its ByRecordKey index, and the table's key): attach it to anything else that writes (containers, ECS tasks, roles of other accounts)."
  value       = data.aws_iam_policy_document.writer.json
}

output "cloudwatch_log_group_names" {
  description = "Log groups of this module: the state machine's, and each function's by key."
  value = merge(
    { state_machine = aws_cloudwatch_log_group.this.name },
    { for k, f in module.functions : k => f.cloudwatch_log_group_name },
  )
}

output "lambda_function_environments" {
  description = "Environment variables of each function deployed here, by key."
  value       = { for k, f in module.functions : k => f.lambda_function_environment }
}

output "writer_role_names" {
  description = "Names of the roles (writer_role_arns) given the writer policy, by key."
  value       = { for k, p in aws_iam_role_policy.writers : k => p.role }
}

output "writer_role_policies" {
  description = "The inline policy each writer role was given, by key (the writer policy)."
  value       = { for k, p in aws_iam_role_policy.writers : k => p.policy }
}
