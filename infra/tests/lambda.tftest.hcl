# The internal lambda module: one function with its own role, policy and log group (what the
# workflow's functions and the streamer are made of).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name     = "stepstream-test-fn"
  zip_path = "../../tests/fixtures/lambda-stub.zip"
  environment = {
    TABLE_NAME = "stepstream-results"
  }
}

run "function_traces_logs_with_retention_and_reserves_nothing_by_default" {
  command = apply

  module {
    source = "./modules/lambda"
  }

  variables {
    log_retention_days = 7
  }

  assert {
    condition     = aws_lambda_function.this.handler == "index.handler" && aws_lambda_function.this.runtime == "nodejs22.x"
    error_message = "The function must run index.handler on nodejs22.x by default."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "The function must trace with X-Ray."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/stepstream-test-fn" && aws_cloudwatch_log_group.this.retention_in_days == 7
    error_message = "The function's log group is /aws/lambda/<name>, with retention."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_group == aws_cloudwatch_log_group.this.name
    error_message = "The function must log to its own log group."
  }

  # Issue 11 item 3: AWS keeps 100 of an account's concurrency unreserved, so a default reservation
  # fails on accounts with a small quota. -1 is the provider's "no reservation".
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1 && output.reserved_concurrency == null
    error_message = "No reserved concurrency unless asked for."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ TABLE_NAME = "stepstream-results" })
    error_message = "The environment is exactly the one given."
  }
}

run "a_reservation_is_opt_in" {
  command = plan

  module {
    source = "./modules/lambda"
  }

  variables {
    reserved_concurrency = 5
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "An asked-for reservation must reach the function."
  }
}

run "rejects_a_bad_reservation" {
  command = plan

  module {
    source = "./modules/lambda"
  }

  variables {
    reserved_concurrency = 0
  }

  expect_failures = [var.reserved_concurrency]
}

run "a_missing_zip_is_reported_not_fatal_to_destroy" {
  command = plan

  module {
    source = "./modules/lambda"
  }

  variables {
    zip_path = "../../tests/fixtures/not-built.zip"
  }

  expect_failures = [check.zip_built]
}
