################################################################################
# Start API: API Gateway REST, POST / integrated directly with
# states:StartExecution of one state machine (no Lambda in between).
################################################################################

locals {
  # Region, account and partition, read from the state machine ARN (no data source, so the
  # module plans the same on provider 5.x and 6.x).
  arn_parts = split(":", var.state_machine_arn)
  partition = local.arn_parts[1]
  region    = local.arn_parts[3]
  account   = local.arn_parts[4]

  cors_enabled = length(var.cors_allow_origins) > 0

  cors = templatefile("${path.module}/templates/cors.vtl.tftpl", { allow_origins = var.cors_allow_origins })

  request_template = templatefile("${path.module}/templates/start-execution.request.vtl.tftpl", {
    state_machine_arn = var.state_machine_arn
  })
  response_template = templatefile("${path.module}/templates/start-execution.response.vtl.tftpl", {
    cors         = local.cors
    function_url = var.stream_url
  })
  # One table of StartExecution errors -> status, code and message, read here and by the local stack.
  start_errors = jsondecode(file("${path.module}/templates/start-execution.errors.json"))
  error_template = templatefile("${path.module}/templates/start-execution.error.vtl.tftpl", {
    cors              = local.cors
    errors            = local.start_errors.errors
    payload_too_large = local.start_errors.payloadTooLarge
    default           = local.start_errors.default
  })

  # The request model: the caller's JSON Schema (draft-04, what API Gateway validates), or the
  # simulated workflow's. Its description is the message of a refused body (no VTL runs in a
  # gateway response, so API Gateway's own $context.error.validationErrorString, which is not
  # JSON-escaped, never goes into the body: it is in the access log instead).
  request_model_schema = var.request_model_schema != null ? var.request_model_schema : file("${path.module}/templates/workflow-input.schema.json")
  request_model        = jsondecode(local.request_model_schema)
  bad_body_message     = "Invalid request body: ${try(local.request_model.description, "the body does not match the start API's request model (a JSON object).")}"
  fault_template       = templatefile("${path.module}/templates/start-execution.fault.vtl.tftpl", { cors = local.cors })

  cors_allow_headers = "Content-Type,Authorization,X-Amz-Date,X-Amz-Security-Token,X-Amz-Content-Sha256"

  # Every response API Gateway generates itself answers {"error":{"code","message"}}.
  # Gateway response templates only substitute variables (no VTL): messages are JSON literals,
  # and $context.error.messageString is already a quoted JSON string.
  gateway_responses = {
    BAD_REQUEST_BODY = {
      status  = "400"
      code    = "BadRequest"
      message = jsonencode(local.bad_body_message)
    }
    BAD_REQUEST_PARAMETERS = { status = "400", code = "BadRequest", message = "$context.error.messageString" }
    REQUEST_TOO_LARGE = {
      status  = "413"
      code    = "PayloadTooLarge"
      message = "\"The request body is too large: a workflow input may hold at most 256 KiB.\""
    }
    UNSUPPORTED_MEDIA_TYPE = {
      status  = "415"
      code    = "UnsupportedMediaType"
      message = "\"Send the workflow input as Content-Type: application/json.\""
    }
    # API Gateway answers this both for an unsigned request and for a method or path that does
    # not exist (only POST / and OPTIONS / do); it cannot tell the two apart.
    MISSING_AUTHENTICATION_TOKEN = {
      status  = var.authorization == "NONE" ? "404" : "403"
      code    = var.authorization == "NONE" ? "NotFound" : "Forbidden"
      message = var.authorization == "NONE" ? "\"No such route: only POST / starts a workflow.\"" : "\"Sign the request with SigV4 (service execute-api), and call POST / (the only route).\""
    }
    INVALID_SIGNATURE = { status = "403", code = "Forbidden", message = "$context.error.messageString" }
    EXPIRED_TOKEN     = { status = "403", code = "Forbidden", message = "$context.error.messageString" }
    ACCESS_DENIED     = { status = "403", code = "Forbidden", message = "$context.error.messageString" }
    UNAUTHORIZED      = { status = "401", code = "Unauthorized", message = "$context.error.messageString" }
    WAF_FILTERED      = { status = "403", code = "Forbidden", message = "$context.error.messageString" }
    RESOURCE_NOT_FOUND = {
      status  = "404"
      code    = "NotFound"
      message = "\"No such route: only POST / starts a workflow.\""
    }
    THROTTLED      = { status = "429", code = "Throttled", message = "\"Too many requests: slow down and retry.\"" }
    QUOTA_EXCEEDED = { status = "429", code = "Throttled", message = "$context.error.messageString" }
    DEFAULT_4XX    = { status = null, code = "BadRequest", message = "$context.error.messageString" }
    DEFAULT_5XX    = { status = null, code = "Internal", message = "$context.error.messageString" }
  }

  # A gateway response cannot pick among several origins (no VTL): with exactly one configured
  # origin, errors carry it so a browser can read them.
  gateway_response_parameters = length(var.cors_allow_origins) == 1 ? {
    "gatewayresponse.header.Access-Control-Allow-Origin" = "'${var.cors_allow_origins[0]}'"
    "gatewayresponse.header.Vary"                        = "'Origin'"
  } : {}

  method_response_headers = local.cors_enabled ? {
    "method.response.header.Access-Control-Allow-Origin" = false
    "method.response.header.Vary"                        = false
  } : {}
}

################################################################################
# REST API, model and validation
################################################################################

resource "aws_api_gateway_rest_api" "this" {
  name        = var.name
  description = "stepstream start API: POST / starts an execution of ${var.state_machine_arn}."

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_model" "workflow_input" {
  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = "WorkflowInput"
  description  = "The body of POST /: a JSON object, the execution's input."
  content_type = "application/json"
  schema       = local.request_model_schema
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "body"
  validate_request_body       = true
  validate_request_parameters = true
}

resource "aws_api_gateway_gateway_response" "this" {
  for_each = local.gateway_responses

  rest_api_id   = aws_api_gateway_rest_api.this.id
  response_type = each.key
  status_code   = each.value.status

  response_templates = {
    "application/json" = "{\"error\":{\"code\":\"${each.value.code}\",\"message\":${each.value.message}}}"
  }

  response_parameters = local.gateway_response_parameters
}

################################################################################
# POST / -> states:StartExecution
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "ApiGatewayAssume"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "${var.name}-start"
  description          = "API ${var.name}: may only start executions of its own state machine."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "StartOwnStateMachine"
    effect    = "Allow"
    actions   = ["states:StartExecution"]
    resources = [var.state_machine_arn]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-start"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_api_gateway_method" "start" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_rest_api.this.root_resource_id
  http_method          = "POST"
  authorization        = var.authorization
  request_validator_id = aws_api_gateway_request_validator.body.id
  request_models = {
    "application/json" = aws_api_gateway_model.workflow_input.name
  }
}

resource "aws_api_gateway_integration" "start" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_rest_api.this.root_resource_id
  http_method             = aws_api_gateway_method.start.http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:states:action/StartExecution"
  credentials             = aws_iam_role.this.arn
  passthrough_behavior    = "NEVER"

  request_templates = {
    "application/json" = local.request_template
  }

  # The role's policy must exist before the first call: without it the first StartExecution after
  # an apply can be denied while IAM propagates.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_api_gateway_method_response" "start" {
  # 400/409/413/429/500 are set by the 4xx integration response (start-execution.errors.json).
  for_each = toset(["200", "400", "409", "413", "429", "500", "502"])

  rest_api_id         = aws_api_gateway_rest_api.this.id
  resource_id         = aws_api_gateway_rest_api.this.root_resource_id
  http_method         = aws_api_gateway_method.start.http_method
  status_code         = each.key
  response_models     = { "application/json" = "Empty" }
  response_parameters = local.method_response_headers
}

resource "aws_api_gateway_integration_response" "start" {
  for_each = {
    "200" = { pattern = null, template = local.response_template }
    "400" = { pattern = "4\\d{2}", template = local.error_template }
    "502" = { pattern = "5\\d{2}", template = local.fault_template }
  }

  rest_api_id       = aws_api_gateway_rest_api.this.id
  resource_id       = aws_api_gateway_rest_api.this.root_resource_id
  http_method       = aws_api_gateway_method.start.http_method
  status_code       = aws_api_gateway_method_response.start[each.key].status_code
  selection_pattern = each.value.pattern

  response_templates = {
    "application/json" = each.value.template
  }

  depends_on = [aws_api_gateway_integration.start]
}

################################################################################
# OPTIONS / (CORS preflight), only when origins are configured
################################################################################

resource "aws_api_gateway_method" "options" {
  count = local.cors_enabled ? 1 : 0

  # A CORS preflight carries no credentials by design; OPTIONS answers from a MOCK integration
  # and reaches no back end (scanners exempt OPTIONS from CKV_AWS_59 / AVD-AWS-0004).
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_rest_api.this.root_resource_id
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "options" {
  count = local.cors_enabled ? 1 : 0

  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_rest_api.this.root_resource_id
  http_method          = aws_api_gateway_method.options[0].http_method
  type                 = "MOCK"
  passthrough_behavior = "WHEN_NO_MATCH"

  request_templates = {
    "application/json" = "{\"statusCode\": 200}"
  }
}

resource "aws_api_gateway_method_response" "options" {
  count = local.cors_enabled ? 1 : 0

  rest_api_id     = aws_api_gateway_rest_api.this.id
  resource_id     = aws_api_gateway_rest_api.this.root_resource_id
  http_method     = aws_api_gateway_method.options[0].http_method
  status_code     = "200"
  response_models = { "application/json" = "Empty" }
  response_parameters = merge(local.method_response_headers, {
    "method.response.header.Access-Control-Allow-Headers" = false
    "method.response.header.Access-Control-Allow-Methods" = false
    "method.response.header.Access-Control-Max-Age"       = false
  })
}

resource "aws_api_gateway_integration_response" "options" {
  count = local.cors_enabled ? 1 : 0

  rest_api_id = aws_api_gateway_rest_api.this.id
  resource_id = aws_api_gateway_rest_api.this.root_resource_id
  http_method = aws_api_gateway_method.options[0].http_method
  status_code = aws_api_gateway_method_response.options[0].status_code

  response_parameters = {
    "method.response.header.Access-Control-Allow-Headers" = "'${local.cors_allow_headers}'"
    "method.response.header.Access-Control-Allow-Methods" = "'OPTIONS,POST'"
    "method.response.header.Access-Control-Max-Age"       = "'${var.cors_max_age_seconds}'"
  }

  response_templates = {
    "application/json" = templatefile("${path.module}/templates/options.vtl.tftpl", { cors = local.cors })
  }

  depends_on = [aws_api_gateway_integration.options]
}

################################################################################
# Deployment and stage
################################################################################

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  description = "Managed by Terraform."

  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_model.workflow_input.schema,
      aws_api_gateway_request_validator.body,
      aws_api_gateway_method.start,
      aws_api_gateway_integration.start,
      aws_api_gateway_method_response.start,
      aws_api_gateway_integration_response.start,
      aws_api_gateway_method.options,
      aws_api_gateway_integration.options,
      aws_api_gateway_method_response.options,
      aws_api_gateway_integration_response.options,
      aws_api_gateway_gateway_response.this,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [
    aws_api_gateway_integration_response.start,
    aws_api_gateway_integration_response.options,
    aws_api_gateway_gateway_response.this,
  ]
}

#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_158:Log groups use the CloudWatch Logs default encryption unless var.cloudwatch_logs_kms_key_arn is set (a key needs a key policy for logs.<region>.amazonaws.com, which this module cannot write for you).
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (default 30): the logs describe short-lived results (result_ttl_days); set 365 or more where a compliance regime asks for a year.
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

# API Gateway writes execution logs to a group of this fixed name; creating it here gives it a
# retention and lets `terraform destroy` remove it.
#trivy:ignore:AVD-AWS-0017
resource "aws_cloudwatch_log_group" "execution" {
  # checkov:skip=CKV_AWS_158:Log groups use the CloudWatch Logs default encryption unless var.cloudwatch_logs_kms_key_arn is set (a key needs a key policy for logs.<region>.amazonaws.com, which this module cannot write for you).
  # checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (default 30): the logs describe short-lived results (result_ttl_days); set 365 or more where a compliance regime asks for a year.
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this.id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

#trivy:ignore:AVD-AWS-0190
resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_120:Caching would answer a POST that starts an execution with a previous execution's response; every start must reach Step Functions. A cache cluster also bills by the hour.
  # checkov:skip=CKV2_AWS_29:A WAF web ACL bills monthly per ACL and rule; the API is IAM-authenticated and throttled. Pass var.web_acl_arn to associate one.
  # checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to an HTTP back end; this API's only back end is Step Functions, called with a role.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  description          = "stepstream start API"
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      extendedRequestId  = "$context.extendedRequestId"
      ip                 = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      userArn            = "$context.identity.userArn"
      requestTime        = "$context.requestTime"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integration.status"
      integrationLatency = "$context.integration.latency"
      errorResponseType  = "$context.error.responseType"
      errorMessage       = "$context.error.message"
      validationError    = "$context.error.validationErrorString"
      xrayTraceId        = "$context.xrayTraceId"
    })
  }

  tags = var.tags

  depends_on = [
    aws_api_gateway_account.this,
    aws_cloudwatch_log_group.execution,
  ]
}

resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225:Caching is off on purpose: every POST must start a new execution (see the stage).
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled = true
    logging_level   = var.logging_level
    # Full request/response logging would write workflow inputs and signed headers to the logs.
    data_trace_enabled     = false
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    caching_enabled        = false
    cache_data_encrypted   = true
  }
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.web_acl_arn == null ? 0 : 1

  resource_arn = aws_api_gateway_stage.this.arn
  web_acl_arn  = var.web_acl_arn
}

################################################################################
# Account-level CloudWatch role (optional; one per account and region)
################################################################################

data "aws_iam_policy_document" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  # The account setting serves every REST API of this account and region, so the role must
  # reach every API's log groups: it is scoped to this account and region's log groups.
  statement {
    sid    = "ApiGatewayLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
    ]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
  }
}

resource "aws_iam_role" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name                 = "${var.name}-apigw-cloudwatch"
  description          = "API Gateway account setting: writes REST API logs of this account and region to CloudWatch Logs."
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_iam_role_policy" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name   = "${var.name}-apigw-cloudwatch"
  role   = aws_iam_role.cloudwatch[0].id
  policy = data.aws_iam_policy_document.cloudwatch[0].json
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn

  depends_on = [aws_iam_role_policy.cloudwatch]
}
