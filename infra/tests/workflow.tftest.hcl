# The workflow module on its own: Express state machine, logging, tracing, the rendered ASL and
# the step Lambda it invokes. Runs offline against mock_provider "aws".

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name       = "stepstream-workflow"
  table_name = "stepstream-results"
  table_arn  = "arn:aws:dynamodb:us-east-1:123456789012:table/stepstream-results"
  # In a run with a module block, path.root is the module's directory.
  steps_zip_path = "../../tests/fixtures/lambda-stub.zip"
}

override_resource {
  target = module.functions["steps"].aws_lambda_function.this
  values = {
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-workflow-steps"
  }
}

run "express_state_machine_with_logging_and_tracing" {
  command = apply

  module {
    source = "./modules/workflow"
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "EXPRESS"
    error_message = "The state machine must be EXPRESS."
  }

  assert {
    condition     = length(aws_sfn_state_machine.this.logging_configuration) == 1 && aws_sfn_state_machine.this.logging_configuration[0].level == "ALL"
    error_message = "Logging must be configured, level ALL by default."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].include_execution_data == false
    error_message = "Execution data must stay out of the logs by default."
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.this.arn}:*"
    error_message = "Logs must go to the module's own log group (ARN + ':*')."
  }

  assert {
    condition     = length(aws_sfn_state_machine.this.tracing_configuration) == 1 && aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "X-Ray tracing must be enabled on the state machine."
  }
}

run "definition_invokes_only_its_own_step_function" {
  command = apply

  module {
    source = "./modules/workflow"
  }

  assert {
    condition     = can(jsondecode(aws_sfn_state_machine.this.definition))
    error_message = "The rendered definition must be valid JSON."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).QueryLanguage == "JSONPath"
    error_message = "The definition must be the JSONPath ASL template."
  }

  # Lambda tasks live at the top level and inside the Map's ItemProcessor.
  assert {
    condition = length([
      for s in concat(
        values(jsondecode(aws_sfn_state_machine.this.definition).States),
        values(jsondecode(aws_sfn_state_machine.this.definition).States.Steps.ItemProcessor.States),
      ) : s if try(s.Resource, "") == "arn:aws:states:::lambda:invoke"
    ]) == 4
    error_message = "Expected 4 lambda:invoke tasks (Plan, Step, FinalStep, RecordFailure)."
  }

  assert {
    condition = alltrue([
      for s in concat(
        values(jsondecode(aws_sfn_state_machine.this.definition).States),
        values(jsondecode(aws_sfn_state_machine.this.definition).States.Steps.ItemProcessor.States),
      ) : s.Parameters.FunctionName == module.functions["steps"].lambda_function_arn if try(s.Resource, "") == "arn:aws:states:::lambda:invoke"
    ])
    error_message = "Every lambda:invoke task must call this workflow's own step Lambda."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States.Plan.Parameters.Payload.defaultStepWaitSeconds == 7
    error_message = "step_wait_seconds (default 7) must be rendered into the Plan payload."
  }

  assert {
    condition     = output.state_machine_definition == aws_sfn_state_machine.this.definition
    error_message = "The module must output the definition it deployed."
  }
}

run "step_lambda_matches_the_artifact_and_logs_with_retention" {
  command = apply

  module {
    source = "./modules/workflow"
  }

  variables {
    log_retention_days = 14
  }

  assert {
    condition     = module.functions["steps"].lambda_function_name == "stepstream-workflow-steps"
    error_message = "The step Lambda is <name>-steps."
  }

  # Issue 11 item 3: no reservation unless asked for (AWS keeps 100 unreserved; new accounts have less).
  assert {
    condition     = output.lambda_reserved_concurrency["steps"] == null
    error_message = "The step Lambda must not reserve concurrency by default."
  }

  assert {
    condition = toset(keys(module.functions["steps"].lambda_function_environment)) == toset([
      "TABLE_NAME", "RESULT_TTL_DAYS", "FINAL_RESULT_FIELD_NAME", "POWERTOOLS_LOG_LEVEL",
    ])
    error_message = "The step Lambda's environment must be exactly what its config parser reads."
  }

  assert {
    condition     = output.cloudwatch_log_group_names == { state_machine = "/aws/vendedlogs/states/stepstream-workflow", steps = "/aws/lambda/stepstream-workflow-steps" }
    error_message = "The module's log groups: the state machine's and the step Lambda's."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "Every log group of the module must have the configured retention."
  }
}

run "a_reservation_is_opt_in_and_bounds_the_plan" {
  command = plan

  module {
    source = "./modules/workflow"
  }

  variables {
    steps_reserved_concurrency = 10
  }

  assert {
    condition     = module.functions["steps"].reserved_concurrency == 10
    error_message = "An asked-for reservation must reach the function."
  }

  assert {
    condition     = module.functions["steps"].lambda_function_environment.MAX_CONCURRENCY == "10"
    error_message = "The Plan step must know the reservation (MAX_CONCURRENCY) to refuse a higher concurrency."
  }
}

run "step_wait_seconds_is_rendered" {
  command = plan

  module {
    source = "./modules/workflow"
  }

  variables {
    step_wait_seconds = 1
  }

  assert {
    condition     = strcontains(local.definition, "\"defaultStepWaitSeconds\": 1\n")
    error_message = "step_wait_seconds must be substituted into the template."
  }
}

run "rejects_a_bad_wait" {
  command = plan

  module {
    source = "./modules/workflow"
  }

  variables {
    step_wait_seconds = 61
  }

  expect_failures = [var.step_wait_seconds]
}

run "functions_without_an_asl_say_what_to_give" {
  command = plan

  module {
    source = "./modules/workflow"
  }

  variables {
    functions = {
      work = { zip_path = "../../tests/fixtures/lambda-stub.zip" }
    }
  }

  expect_failures = [aws_sfn_state_machine.this]
}
