# The step Lambda moved into the shared lambda module (one function + role + log group): existing
# stacks keep their resources.
moved {
  from = aws_lambda_function.steps
  to   = module.functions["steps"].aws_lambda_function.this
}

moved {
  from = aws_iam_role.steps
  to   = module.functions["steps"].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.steps
  to   = module.functions["steps"].aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.steps
  to   = module.functions["steps"].aws_cloudwatch_log_group.this
}
