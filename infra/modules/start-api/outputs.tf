output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "rest_api_execution_arn" {
  description = "Execution ARN of the REST API (prefix of execute-api:Invoke resources)."
  value       = aws_api_gateway_rest_api.this.execution_arn
}

output "stage_invoke_url" {
  description = "The API endpoint: POST here (signed with SigV4, service execute-api) to start a workflow."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "stage_arn" {
  description = "ARN of the stage."
  value       = aws_api_gateway_stage.this.arn
}

output "stage_name" {
  description = "Name of the stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "stage_start_invoke_arn" {
  description = "The execute-api:Invoke resource of POST / on this stage (for a caller's IAM policy)."
  value       = "${aws_api_gateway_rest_api.this.execution_arn}/${aws_api_gateway_stage.this.stage_name}/POST/"
}

output "iam_role_arn" {
  description = "ARN of the role API Gateway uses to call states:StartExecution."
  value       = aws_iam_role.this.arn
}

output "method_authorization" {
  description = "Authorization of POST / (AWS_IAM or NONE)."
  value       = aws_api_gateway_method.start.authorization
}

output "cloudwatch_log_group_names" {
  description = "Log groups of this module: access and execution logs."
  value = {
    access    = aws_cloudwatch_log_group.access.name
    execution = aws_cloudwatch_log_group.execution.name
  }
}

output "request_model_schema" {
  description = "The request model POST / validates bodies against (JSON Schema draft-04)."
  value       = aws_api_gateway_model.workflow_input.schema
}
