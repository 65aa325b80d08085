# examples/parallel-writers: a consumer's own workflow (a Parallel of branches whose Lambdas write
# results, then a final record) through the one module call, against mock_provider "aws".

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  # In a run with a module block, path.root is the example's directory.
  summarize_zip_path = "../../tests/fixtures/lambda-stub.zip"
  translate_zip_path = "../../tests/fixtures/lambda-stub.zip"
  finish_zip_path    = "../../tests/fixtures/lambda-stub.zip"
  streamer_zip_path  = "../../tests/fixtures/lambda-stub.zip"
  writer_role_arns   = { ingest = "arn:aws:iam::123456789012:role/ingest-task" }
}

override_resource {
  target = module.stepstream.module.workflow.module.functions["summarize"].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-summarize" }
}

override_resource {
  target = module.stepstream.module.workflow.module.functions["translate"].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-translate" }
}

override_resource {
  target = module.stepstream.module.workflow.module.functions["finish"].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-finish" }
}

run "a_parallel_of_writers_through_the_one_module_call" {
  command = apply

  module {
    source = "./examples/parallel-writers"
  }

  assert {
    condition     = jsondecode(output.state_machine_definition).States.InParallel.Type == "Parallel" && length(jsondecode(output.state_machine_definition).States.InParallel.Branches) == 2
    error_message = "The example's workflow is a Parallel of two branches."
  }

  assert {
    condition = (
      jsondecode(output.state_machine_definition).States.InParallel.Branches[0].States.Summarize.Parameters.FunctionName == "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-summarize" &&
      jsondecode(output.state_machine_definition).States.InParallel.Branches[1].States.Translate.Parameters.FunctionName == "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-translate" &&
      jsondecode(output.state_machine_definition).States.Finish.Parameters.FunctionName == "arn:aws:lambda:us-east-1:123456789012:function:parallel-writers-workflow-finish"
    )
    error_message = "Each branch invokes its own deployed function, whose ARN the template received."
  }

  assert {
    condition     = jsondecode(output.state_machine_definition).States.InParallel.Branches[0].States.Summarize.TimeoutSeconds == 60
    error_message = "definition_variables reach the template (task_timeout_seconds)."
  }

  assert {
    condition     = output.client_config.tableName == "parallel-writers-results" && endswith(output.client_config.streamUrl, "/")
    error_message = "The example gets the same outputs as the root stack."
  }

  assert {
    condition     = module.stepstream.request_model_schema == file("./examples/parallel-writers/input.schema.json")
    error_message = "The API validates with the example's own model."
  }

  assert {
    condition     = module.stepstream.reserved_concurrency == {}
    error_message = "No reservation in the example either."
  }
}
