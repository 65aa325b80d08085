# The root module as `terraform apply` deploys it, against mock_provider "aws" (offline):
# the wiring between modules, the outputs the client and CLI read, and the root variables.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  # The real zips exist only after `make build`; the wiring does not depend on their content.
  steps_zip_path    = "tests/fixtures/lambda-stub.zip"
  streamer_zip_path = "tests/fixtures/lambda-stub.zip"
}

override_resource {
  target = module.stepstream.module.workflow.module.functions["steps"].aws_lambda_function.this
  values = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-workflow-steps"
  }
}

override_resource {
  target = module.stepstream.module.stream_url.module.lambda.aws_lambda_function.this
  values = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-streamer"
  }
}

run "outputs_for_the_client" {
  command = apply

  assert {
    condition = toset(keys(output.client_config)) == toset([
      "apiEndpoint", "streamUrl", "region", "tableName", "stateMachineArn", "apiAuthorization",
    ])
    error_message = "client_config must hold exactly apiEndpoint, streamUrl, region, tableName, stateMachineArn, apiAuthorization."
  }

  assert {
    condition = (
      output.client_config.apiEndpoint == output.api_endpoint &&
      output.client_config.streamUrl == output.stream_url &&
      output.client_config.tableName == output.table_name &&
      output.client_config.stateMachineArn == output.state_machine_arn &&
      output.client_config.region == "us-east-1"
    )
    error_message = "client_config must repeat the individual outputs."
  }

  assert {
    condition     = output.client_config.apiAuthorization == "AWS_IAM"
    error_message = "The API must be AWS_IAM by default."
  }

  assert {
    condition     = output.table_name == "stepstream-results" && endswith(output.stream_url, "/")
    error_message = "Table name comes from name_prefix; the stream URL is the Function URL."
  }

  assert {
    condition     = length(output.log_group_names) == 5
    error_message = "Five log groups: step Lambda, state machine, streamer, API access, API execution."
  }
}

run "workflow_invokes_its_own_steps_and_streams_its_own_executions" {
  command = apply

  assert {
    condition = alltrue([
      for s in concat(
        values(jsondecode(module.stepstream.state_machine_definition).States),
        values(jsondecode(module.stepstream.state_machine_definition).States.Steps.ItemProcessor.States),
      ) : s.Parameters.FunctionName == module.stepstream.lambda_function_arns["steps"] if try(s.Resource, "") == "arn:aws:states:::lambda:invoke"
    ])
    error_message = "Every lambda:invoke task must call the workflow's own step Lambda."
  }

  assert {
    condition     = module.stepstream.lambda_function_arns["steps"] != module.stepstream.streamer_function_arn
    error_message = "The state machine must not invoke the streamer."
  }
}

run "public_demo_api" {
  command = plan

  variables {
    api_authorization = "NONE"
  }

  assert {
    condition     = output.client_config.apiAuthorization == "NONE"
    error_message = "api_authorization = NONE must reach the method and client_config."
  }
}

run "rejects_bad_root_variables" {
  command = plan

  variables {
    name_prefix                     = "Bad_Prefix"
    streamer_lambda_timeout_seconds = 901
    api_authorization               = "COGNITO"
    cors_allow_origins              = ["*"]
    log_retention_days              = 0
  }

  expect_failures = [
    var.name_prefix,
    var.streamer_lambda_timeout_seconds,
    var.api_authorization,
    var.cors_allow_origins,
    var.log_retention_days,
  ]
}

# Issue 11 items 3 and 4: no reservation by default; an asked-for one is checked against the account
# quota (AWS keeps 100 unreserved) and bounds the API's concurrency and the Plan step.
run "no_reserved_concurrency_by_default" {
  command = plan

  assert {
    condition     = module.stepstream.reserved_concurrency == {}
    error_message = "Neither the step Lambda nor the streamer may reserve concurrency by default."
  }

  assert {
    condition     = jsondecode(module.stepstream.request_model_schema).properties.concurrency.maximum == 40
    error_message = "Without a reservation the model keeps concurrency 1-40."
  }
}

run "a_reservation_bounds_the_api_model_and_is_checked_against_the_quota" {
  command = plan

  variables {
    steps_reserved_concurrency    = 20
    streamer_reserved_concurrency = 30
  }

  override_data {
    target = module.stepstream.data.aws_servicequotas_service_quota.lambda_concurrency[0]
    values = {
      value = 1000
    }
  }

  assert {
    condition     = module.stepstream.reserved_concurrency == { steps = 20, streamer = 30 }
    error_message = "Asked-for reservations must reach the functions."
  }

  assert {
    condition     = jsondecode(module.stepstream.request_model_schema).properties.concurrency.maximum == 20
    error_message = "With a reservation of 20 the API's model must refuse concurrency 21 (it would be throttled)."
  }
}

run "the_caller_may_invoke_the_streamer_only_through_its_url" {
  command = apply

  assert {
    condition = alltrue([
      for st in jsondecode(output.caller_policy_json).Statement : st.Condition.Bool["lambda:InvokedViaFunctionUrl"] == "true" if st.Action == "lambda:InvokeFunction"
    ])
    error_message = "lambda:InvokeFunction must carry lambda:InvokedViaFunctionUrl = true."
  }
}

run "the_streamers_connection_and_execution_bounds_are_root_variables" {
  command = plan

  variables {
    stream_max_connection_seconds = 45
    stream_max_execution_seconds  = 360
  }

  assert {
    condition     = module.stepstream.stream_limits.max_connection_seconds == 45
    error_message = "stream_max_connection_seconds must reach the streamer's MAX_CONNECTION_SECONDS."
  }

  assert {
    condition     = module.stepstream.stream_limits.max_execution_seconds == 360
    error_message = "stream_max_execution_seconds must reach the streamer's MAX_EXECUTION_SECONDS."
  }
}
