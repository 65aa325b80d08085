# The start-api module: POST / -> states:StartExecution of this state machine, AWS_IAM by default,
# validation, error shapes, CORS, stage logging, metrics, throttling and tracing.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name              = "stepstream-api"
  state_machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream-workflow"
  stream_url        = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"
}

override_resource {
  target = aws_iam_role.this
  values = {
    arn = "arn:aws:iam::123456789012:role/stepstream-api-start"
  }
}

run "post_starts_an_execution_of_this_state_machine" {
  command = apply

  module {
    source = "./modules/start-api"
  }

  assert {
    condition     = aws_api_gateway_method.start.http_method == "POST" && aws_api_gateway_method.start.resource_id == aws_api_gateway_rest_api.this.root_resource_id
    error_message = "The start method must be POST /."
  }

  assert {
    condition     = aws_api_gateway_integration.start.type == "AWS" && aws_api_gateway_integration.start.integration_http_method == "POST"
    error_message = "The integration must be a direct AWS service integration."
  }

  assert {
    condition     = aws_api_gateway_integration.start.uri == "arn:aws:apigateway:us-east-1:states:action/StartExecution"
    error_message = "The integration must target states:action/StartExecution in the state machine's region."
  }

  assert {
    condition     = aws_api_gateway_integration.start.credentials == aws_iam_role.this.arn
    error_message = "The integration must call Step Functions with the module's own role."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration.start.request_templates["application/json"], "\"stateMachineArn\":\"${var.state_machine_arn}\"")
    error_message = "The request template must start this state machine, and only it."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration.start.request_templates["application/json"], "$util.escapeJavaScript($inputJson)")
    error_message = "The request template must pass the (escaped) body as the execution input."
  }

  assert {
    condition     = aws_api_gateway_integration.start.passthrough_behavior == "NEVER"
    error_message = "Bodies of other content types must be refused (415), not passed through."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration_response.start["200"].response_templates["application/json"], "{\"workflow\":{\"executionArn\":\"$executionArn\",\"lambdaResultURL\":\"${var.stream_url}\",\"completeLambdaResultURL\":\"${var.stream_url}?executionArn=$util.urlEncode($executionArn)\",\"startDate\":\"$input.path('$.startDate')\"}}")
    error_message = "The 200 response must produce exactly the local stack's {\"workflow\":{...}} shape."
  }
}

run "aws_iam_by_default_with_validation" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  assert {
    condition     = aws_api_gateway_method.start.authorization == "AWS_IAM"
    error_message = "POST / must require AWS_IAM by default."
  }

  assert {
    condition     = length(aws_api_gateway_method.options) == 0
    error_message = "No OPTIONS method without CORS origins."
  }

  assert {
    condition     = aws_api_gateway_request_validator.body.validate_request_body && aws_api_gateway_method.start.request_models["application/json"] == aws_api_gateway_model.workflow_input.name
    error_message = "The body must be validated against the WorkflowInput model."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_model.workflow_input.schema).type == "object"
    error_message = "The model must require a JSON object."
  }

  assert {
    condition = alltrue([
      for r in aws_api_gateway_gateway_response.this : can(jsondecode(replace(replace(
        r.response_templates["application/json"],
        "$context.error.messageString", "\"message\""),
        "$context.error.validationErrorString", "detail"
      )))
    ])
    error_message = "Every gateway response template must render as JSON."
  }

  assert {
    condition = alltrue([
      for r in aws_api_gateway_gateway_response.this : can(jsondecode(replace(replace(
        r.response_templates["application/json"],
        "$context.error.messageString", "\"message\""),
        "$context.error.validationErrorString", "detail"
      )).error.code)
    ])
    error_message = "Every gateway response must answer {\"error\":{\"code\",\"message\"}}."
  }

  assert {
    condition = (
      aws_api_gateway_gateway_response.this["BAD_REQUEST_BODY"].status_code == "400" &&
      aws_api_gateway_gateway_response.this["REQUEST_TOO_LARGE"].status_code == "413" &&
      aws_api_gateway_gateway_response.this["UNSUPPORTED_MEDIA_TYPE"].status_code == "415" &&
      aws_api_gateway_gateway_response.this["THROTTLED"].status_code == "429"
    )
    error_message = "Bad bodies, oversize bodies, wrong media types and throttling must be clear 4xx."
  }
}

run "stage_logs_meters_throttles_and_traces" {
  command = apply

  module {
    source = "./modules/start-api"
  }

  variables {
    throttling_burst_limit = 5
    throttling_rate_limit  = 2
    log_retention_days     = 90
  }

  assert {
    condition     = aws_api_gateway_stage.this.xray_tracing_enabled
    error_message = "The stage must trace with X-Ray."
  }

  assert {
    condition     = aws_api_gateway_stage.this.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn
    error_message = "The stage must write access logs to the module's log group."
  }

  assert {
    condition     = can(jsondecode(aws_api_gateway_stage.this.access_log_settings[0].format).requestId)
    error_message = "The access log format must be JSON with the request id."
  }

  assert {
    condition = (
      aws_api_gateway_method_settings.all.method_path == "*/*" &&
      aws_api_gateway_method_settings.all.settings[0].metrics_enabled &&
      aws_api_gateway_method_settings.all.settings[0].logging_level == "INFO" &&
      aws_api_gateway_method_settings.all.settings[0].data_trace_enabled == false
    )
    error_message = "Every method must have metrics and execution logging, without data trace."
  }

  assert {
    condition     = aws_api_gateway_method_settings.all.settings[0].throttling_burst_limit == 5 && aws_api_gateway_method_settings.all.settings[0].throttling_rate_limit == 2
    error_message = "Throttling must come from its variables."
  }

  assert {
    condition     = aws_cloudwatch_log_group.access.retention_in_days == 90 && aws_cloudwatch_log_group.execution.retention_in_days == 90
    error_message = "Access and execution log groups must have retention."
  }

  assert {
    condition     = aws_cloudwatch_log_group.execution.name == "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/v1"
    error_message = "The execution log group must be the one API Gateway writes to."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 1
    error_message = "The account CloudWatch role is managed by default."
  }
}

run "none_is_an_explicit_choice" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    authorization                  = "NONE"
    manage_account_cloudwatch_role = false
  }

  assert {
    condition     = aws_api_gateway_method.start.authorization == "NONE"
    error_message = "authorization = NONE must make POST / public."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.cloudwatch) == 0
    error_message = "manage_account_cloudwatch_role = false must leave the account setting alone."
  }
}

run "cors_preflight_for_configured_origins" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    cors_allow_origins = ["https://app.example.com", "https://admin.example.com"]
  }

  assert {
    condition     = length(aws_api_gateway_method.options) == 1 && aws_api_gateway_method.options[0].authorization == "NONE"
    error_message = "OPTIONS / must answer preflights without credentials."
  }

  assert {
    condition     = aws_api_gateway_integration.options[0].type == "MOCK"
    error_message = "The preflight must not reach a back end."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration_response.options[0].response_templates["application/json"], "[\"https://app.example.com\",\"https://admin.example.com\"]")
    error_message = "The preflight must answer only the configured origins."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration_response.start["200"].response_templates["application/json"], "Access-Control-Allow-Origin")
    error_message = "POST responses must carry the CORS origin too."
  }
}

run "rejects_a_wildcard_origin" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    cors_allow_origins = ["*"]
  }

  expect_failures = [var.cors_allow_origins]
}

run "rejects_an_unknown_authorization" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    authorization = "CUSTOM"
  }

  expect_failures = [var.authorization]
}

# Issue 11 items 6 and 7: one validation contract, errors with the status they deserve.
run "the_model_refuses_unknown_fields_and_the_400_is_json" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  assert {
    condition     = jsondecode(aws_api_gateway_model.workflow_input.schema).additionalProperties == false
    error_message = "The simulated workflow's model must refuse unknown fields ({\"concurency\":3})."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_model.workflow_input.schema)["$schema"] == "http://json-schema.org/draft-04/schema#"
    error_message = "API Gateway models are JSON Schema draft-04."
  }

  # A gateway response runs no VTL: the unescaped $context.error.validationErrorString must never be
  # pasted into the JSON body. The message is the model's description, encoded by Terraform.
  assert {
    condition = alltrue([
      for r in aws_api_gateway_gateway_response.this : !strcontains(r.response_templates["application/json"], "validationErrorString")
    ])
    error_message = "No gateway response may paste $context.error.validationErrorString into a JSON string."
  }

  assert {
    condition = jsondecode(aws_api_gateway_gateway_response.this["BAD_REQUEST_BODY"].response_templates["application/json"]).error.message == (
      "Invalid request body: ${jsondecode(file("./modules/start-api/templates/workflow-input.schema.json")).description}"
    )
    error_message = "A refused body answers the model's own description (the local stack answers the same)."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_gateway_response.this["UNSUPPORTED_MEDIA_TYPE"].response_templates["application/json"]).error.message == "Send the workflow input as Content-Type: application/json."
    error_message = "The 415 message is the one the local stack answers (UNSUPPORTED_MEDIA_TYPE_MESSAGE)."
  }

  assert {
    condition     = strcontains(aws_api_gateway_stage.this.access_log_settings[0].format, "$context.error.validationErrorString")
    error_message = "API Gateway's own validation detail goes to the access log."
  }
}

run "a_callers_own_request_model" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    request_model_schema = "{\"$schema\":\"http://json-schema.org/draft-04/schema#\",\"type\":\"object\",\"description\":\"send a prompt.\",\"required\":[\"prompt\"],\"properties\":{\"prompt\":{\"type\":\"string\",\"maxLength\":4000}},\"additionalProperties\":false}"
  }

  assert {
    condition     = jsondecode(aws_api_gateway_model.workflow_input.schema).required == ["prompt"]
    error_message = "The model must be the caller's schema."
  }

  assert {
    condition     = jsondecode(aws_api_gateway_gateway_response.this["BAD_REQUEST_BODY"].response_templates["application/json"]).error.message == "Invalid request body: send a prompt."
    error_message = "The 400 message must be the caller's model description."
  }
}

run "rejects_a_model_that_is_not_draft_04_or_has_a_dollar_in_its_description" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  variables {
    request_model_schema = "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\",\"description\":\"costs $5\"}"
  }

  expect_failures = [var.request_model_schema]
}

run "step_functions_errors_get_the_status_they_deserve" {
  command = plan

  module {
    source = "./modules/start-api"
  }

  assert {
    condition = alltrue([
      for e in jsondecode(file("./modules/start-api/templates/start-execution.errors.json")).errors : strcontains(
        aws_api_gateway_integration_response.start["400"].response_templates["application/json"],
        "#elseif($type == \"${e.type}\" || $type.endsWith(\"#${e.type}\"))\n#set($context.responseOverride.status = ${e.status})\n#set($code = \"${e.code}\")\n"
      )
    ])
    error_message = "Every StartExecution error of the table must be answered with its own status and code."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration_response.start["400"].response_templates["application/json"], "#set($code = \"Internal\")") && !strcontains(aws_api_gateway_integration_response.start["400"].response_templates["application/json"], "#set($code = \"BadRequest\")\n#else")
    error_message = "An unknown 4xx from Step Functions (or AccessDenied) must not be blamed on the caller as 400."
  }

  assert {
    condition     = alltrue([for s in ["409", "413", "429", "500"] : contains(keys(aws_api_gateway_method_response.start), s)])
    error_message = "Every status the 4xx integration response sets needs a method response."
  }

  assert {
    condition = alltrue([
      for e in local.start_errors.errors : !strcontains(e.message, "$") && !strcontains(e.message, "\"") && !strcontains(e.message, "#")
    ])
    error_message = "Messages are pasted into VTL: no $, # or \"."
  }
}
