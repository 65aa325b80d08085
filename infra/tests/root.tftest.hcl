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
  target = module.workflow.aws_lambda_function.steps
  values = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-workflow-steps"
  }
}

override_resource {
  target = module.stream_url.aws_lambda_function.this
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
        values(jsondecode(module.workflow.state_machine_definition).States),
        values(jsondecode(module.workflow.state_machine_definition).States.Steps.ItemProcessor.States),
      ) : s.Parameters.FunctionName == module.workflow.lambda_function_arn if try(s.Resource, "") == "arn:aws:states:::lambda:invoke"
    ])
    error_message = "Every lambda:invoke task must call the workflow's own step Lambda."
  }

  assert {
    condition     = module.workflow.lambda_function_arn != module.stream_url.lambda_function_arn
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
