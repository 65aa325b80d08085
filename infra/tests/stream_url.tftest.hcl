# The stream-url module: a streaming Function URL behind AWS_IAM, the streamer's environment,
# its timeout bound and its log group.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name              = "stepstream-streamer"
  table_name        = "stepstream-results"
  table_arn         = "arn:aws:dynamodb:us-east-1:123456789012:table/stepstream-results"
  state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream-workflow"
  # In a run with a module block, path.root is the module's directory.
  streamer_zip_path = "../../tests/fixtures/lambda-stub.zip"
}

run "function_url_streams_with_aws_iam" {
  command = apply

  module {
    source = "./modules/stream-url"
  }

  assert {
    condition     = aws_lambda_function_url.this.invoke_mode == "RESPONSE_STREAM"
    error_message = "The Function URL must stream its response (RESPONSE_STREAM)."
  }

  assert {
    condition     = aws_lambda_function_url.this.authorization_type == "AWS_IAM"
    error_message = "The Function URL must require SigV4 (AWS_IAM)."
  }

  assert {
    condition     = length(aws_lambda_function_url.this.cors) == 0
    error_message = "No CORS by default (no origins configured)."
  }

  assert {
    condition     = endswith(output.lambda_function_url, "/")
    error_message = "The stream URL output is the Function URL, which ends with '/'."
  }
}

run "streamer_environment_and_timeout" {
  command = apply

  module {
    source = "./modules/stream-url"
  }

  variables {
    timeout_seconds      = 120
    idle_timeout_seconds = 100
    poll_interval_ms     = 75
    log_retention_days   = 7
  }

  assert {
    condition = toset(keys(module.lambda.lambda_function_environment)) == toset([
      "TABLE_NAME", "STATE_MACHINE_ARN", "POLL_INTERVAL_MS", "MAX_POLL_INTERVAL_MS", "STREAM_TIMEOUT_SECONDS",
      "HEARTBEAT_SECONDS", "LONG_POLL_SECONDS", "PAGE_SIZE", "DEADLINE_MARGIN_MS", "FINAL_RESULT_FIELD_NAME",
      "POWERTOOLS_LOG_LEVEL", "MAX_CONNECTION_SECONDS", "MAX_EXECUTION_SECONDS",
    ])
    error_message = "The streamer's environment must be exactly what its config parser reads."
  }

  assert {
    condition     = module.lambda.lambda_function_environment.STATE_MACHINE_ARN == var.state_machine_arn
    error_message = "The streamer must only accept executions of the given state machine."
  }

  assert {
    condition     = module.lambda.lambda_function_environment.STREAM_TIMEOUT_SECONDS == "100"
    error_message = "The idle timeout must come from its variable."
  }

  assert {
    condition     = module.lambda.lambda_function_environment.POLL_INTERVAL_MS == "75"
    error_message = "poll_interval_ms must reach POLL_INTERVAL_MS."
  }

  assert {
    condition     = output.cloudwatch_log_group_name == "/aws/lambda/stepstream-streamer"
    error_message = "The streamer must log to its own log group."
  }

  assert {
    condition     = output.reserved_concurrency == null
    error_message = "No reservation by default: abandoned readers could exhaust it, and new accounts cannot afford it."
  }
}

run "cors_lists_explicit_origins_and_the_protocol_headers" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    cors_allow_origins = ["https://app.example.com", "http://localhost:5173"]
  }

  assert {
    condition     = aws_lambda_function_url.this.cors[0].allow_origins == toset(["https://app.example.com", "http://localhost:5173"])
    error_message = "CORS must allow exactly the configured origins."
  }

  assert {
    condition = length(setsubtract(
      ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "last-event-id", "if-none-match"],
      aws_lambda_function_url.this.cors[0].allow_headers,
    )) == 0
    error_message = "CORS must allow the SigV4 headers, Last-Event-ID and If-None-Match (Durable Streams §10.1)."
  }

  assert {
    condition = length(setsubtract(
      ["Stream-Next-Offset", "Stream-Up-To-Date", "Stream-Cursor", "Stream-Closed"],
      aws_lambda_function_url.this.cors[0].expose_headers,
    )) == 0
    error_message = "CORS must expose the Durable Streams headers."
  }
}

run "rejects_a_wildcard_origin" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    cors_allow_origins = ["*"]
  }

  expect_failures = [var.cors_allow_origins]
}

run "rejects_a_public_url" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    authorization_type = "NONE"
  }

  expect_failures = [var.authorization_type]
}

run "rejects_an_idle_timeout_past_the_lambda_deadline" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    timeout_seconds      = 60
    idle_timeout_seconds = 59
  }

  expect_failures = [aws_lambda_function_url.this]
}

run "rejects_a_timeout_over_the_lambda_maximum" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    timeout_seconds = 901
  }

  expect_failures = [var.timeout_seconds]
}

run "a_region_without_function_urls_is_refused_with_a_message" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    state_machine_arn = "arn:aws:states:eu-central-2:123456789012:stateMachine:stepstream-workflow"
  }

  expect_failures = [aws_lambda_function_url.this]
}

# The connection and execution bounds (MAX_CONNECTION_SECONDS, MAX_EXECUTION_SECONDS) are the
# deployer's to set, checked against the function's timeout (Lambda: at most 900 s).
run "connection_and_execution_bounds_reach_the_streamer" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    timeout_seconds        = 120
    idle_timeout_seconds   = 100
    max_connection_seconds = 45
    max_execution_seconds  = 400
  }

  assert {
    condition     = module.lambda.lambda_function_environment.MAX_CONNECTION_SECONDS == "45"
    error_message = "max_connection_seconds must reach MAX_CONNECTION_SECONDS."
  }

  assert {
    condition     = module.lambda.lambda_function_environment.MAX_EXECUTION_SECONDS == "400"
    error_message = "max_execution_seconds must reach MAX_EXECUTION_SECONDS."
  }
}

run "the_connection_bound_defaults_to_the_streamers" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  assert {
    condition     = module.lambda.lambda_function_environment.MAX_CONNECTION_SECONDS == "60" && module.lambda.lambda_function_environment.MAX_EXECUTION_SECONDS == "330"
    error_message = "The defaults must be the streamer's own (60 s per connection, 330 s per execution)."
  }
}

run "a_connection_bound_the_function_timeout_would_cut_is_refused" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    timeout_seconds        = 120
    idle_timeout_seconds   = 100
    max_connection_seconds = 119 # + deadline_margin_ms 2000 > 120 s
  }

  expect_failures = [aws_lambda_function_url.this]
}

run "a_connection_bound_past_lambdas_longest_timeout_is_refused" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    max_connection_seconds = 901
  }

  expect_failures = [var.max_connection_seconds]
}

run "an_execution_bound_of_a_fraction_is_refused" {
  command = plan

  module {
    source = "./modules/stream-url"
  }

  variables {
    max_execution_seconds = 330.5
  }

  expect_failures = [var.max_execution_seconds]
}
