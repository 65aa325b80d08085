# modules/stepstream, the module a team calls with its own workflow: its ASL template and
# variables, the functions it deploys from zips, functions and writer roles of its own, its request
# model. Runs offline against mock_provider "aws".

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "acme"
  # templatefile() reads a path from the working directory: pass "${path.module}/..." in a module.
  definition_template = "tests/fixtures/consumer/workflow.asl.json.tftpl"
  definition_variables = {
    greeting = "hello"
  }
  functions = {
    work = {
      # In a run with a module block, path.root is the module's directory.
      zip_path        = "../../tests/fixtures/lambda-stub.zip"
      timeout_seconds = 45
      environment     = { MODEL = "tiny" }
    }
  }
  lambda_function_arns = {
    existing = "arn:aws:lambda:us-east-1:123456789012:function:acme-recorder"
  }
  writer_role_arns = {
    recorder = "arn:aws:iam::123456789012:role/service/acme-recorder"
  }
  streamer_zip_path = "../../tests/fixtures/lambda-stub.zip"
}

override_resource {
  target = module.workflow.module.functions["work"].aws_lambda_function.this
  values = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:acme-workflow-work"
  }
}

run "renders_the_consumers_template_with_its_functions" {
  command = apply

  module {
    source = "./modules/stepstream"
  }

  assert {
    condition     = jsondecode(output.state_machine_definition).States.Work.Parameters.FunctionName == "arn:aws:lambda:us-east-1:123456789012:function:acme-workflow-work"
    error_message = "A deployed function's ARN reaches the template as <key>_function_arn."
  }

  assert {
    condition     = jsondecode(output.state_machine_definition).States.RecordFailure.Parameters.FunctionName == var.lambda_function_arns.existing
    error_message = "A given function's ARN reaches the template as <key>_function_arn."
  }

  assert {
    condition     = jsondecode(output.state_machine_definition).States.Work.Parameters.Payload.greeting == "hello"
    error_message = "definition_variables reach the template."
  }

  assert {
    condition     = output.lambda_function_arns.work == "arn:aws:lambda:us-east-1:123456789012:function:acme-workflow-work" && output.lambda_function_arns.existing == var.lambda_function_arns.existing && length(output.lambda_function_arns) == 2
    error_message = "The state machine may invoke exactly the deployed and the given functions."
  }

  assert {
    condition = toset(keys(output.client_config)) == toset([
      "apiEndpoint", "streamUrl", "region", "tableName", "stateMachineArn", "apiAuthorization",
    ]) && output.table_name == "acme-results"
    error_message = "The outputs are the ones the root gives the client and the CLI."
  }
}

run "the_functions_get_the_table_and_the_writers_exactly_what_appending_needs" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  assert {
    condition     = module.workflow.writer_role_names["recorder"] == "acme-recorder"
    error_message = "A writer role (even under a path) gets the writer policy, by its name."
  }

  assert {
    condition     = module.workflow.writer_role_policies["recorder"] == output.writer_policy_json
    error_message = "Writer roles get exactly the writer policy."
  }

  assert {
    condition     = jsondecode(output.writer_policy_json) != null
    error_message = "The module outputs the writer policy (for containers, ECS tasks, other accounts)."
  }

  assert {
    condition = (
      module.workflow.lambda_function_environments["work"].MODEL == "tiny" &&
      module.workflow.lambda_function_environments["work"].TABLE_NAME == "acme-results"
    )
    error_message = "A function gets its own environment and the table's (TABLE_NAME for putResult)."
  }

  assert {
    condition     = jsondecode(output.request_model_schema).maxProperties == 64 && jsondecode(output.request_model_schema).type == "object"
    error_message = "Without a model of its own the API takes a JSON object of at most 64 fields (permissive but bounded)."
  }

  assert {
    condition     = output.reserved_concurrency == {}
    error_message = "No reservation unless asked for."
  }
}

run "a_consumers_request_model" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  variables {
    request_model_schema = "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\",\"required\":[\"prompt\"],\"properties\":{\"prompt\":{\"type\":\"string\"}},\"additionalProperties\":false}"
  }

  assert {
    condition     = jsondecode(output.request_model_schema).required == ["prompt"]
    error_message = "The API validates with the consumer's model."
  }
}

run "a_reservation_the_account_cannot_afford_is_refused_before_apply" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  variables {
    functions = {
      work = {
        zip_path             = "../../tests/fixtures/lambda-stub.zip"
        reserved_concurrency = 20
      }
    }
  }

  # A new account: 10 concurrent executions in all, so nothing can be reserved.
  override_data {
    target = data.aws_servicequotas_service_quota.lambda_concurrency[0]
    values = {
      value = 10
    }
  }

  expect_failures = [data.aws_servicequotas_service_quota.lambda_concurrency]
}

run "a_reservation_the_account_affords" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  variables {
    functions = {
      work = {
        zip_path             = "../../tests/fixtures/lambda-stub.zip"
        reserved_concurrency = 20
      }
    }
    streamer_reserved_concurrency = 30
  }

  override_data {
    target = data.aws_servicequotas_service_quota.lambda_concurrency[0]
    values = {
      value = 150
    }
  }

  assert {
    condition     = output.reserved_concurrency == { work = 20, streamer = 30 }
    error_message = "Reservations within the quota (plus the 100 AWS keeps) are accepted."
  }
}

# Readers of an execution no Catch could end stop at stream_max_execution_seconds: a bound inside the
# state machine's own TimeoutSeconds (300 in this template) would end live readers early.
run "an_execution_bound_inside_the_state_machines_timeout_is_refused" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  variables {
    stream_max_execution_seconds = 300
  }

  expect_failures = [output.stream_url]
}

run "the_connection_and_execution_bounds_reach_the_streamer" {
  command = plan

  module {
    source = "./modules/stepstream"
  }

  variables {
    stream_max_connection_seconds = 30
    stream_max_execution_seconds  = 301
  }

  assert {
    condition     = output.stream_limits.max_connection_seconds == 30
    error_message = "stream_max_connection_seconds must reach the streamer's MAX_CONNECTION_SECONDS."
  }

  assert {
    condition     = output.stream_limits.max_execution_seconds == 301
    error_message = "stream_max_execution_seconds must reach the streamer's MAX_EXECUTION_SECONDS."
  }
}
