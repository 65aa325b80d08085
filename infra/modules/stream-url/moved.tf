# The streamer moved into the shared lambda module (one function + role + log group): existing
# stacks keep their resources.
moved {
  from = aws_lambda_function.this
  to   = module.lambda.aws_lambda_function.this
}

moved {
  from = aws_iam_role.this
  to   = module.lambda.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this
  to   = module.lambda.aws_iam_role_policy.this
}

moved {
  from = aws_cloudwatch_log_group.this
  to   = module.lambda.aws_cloudwatch_log_group.this
}
