################################################################################
# Stream URL: the streamer Lambda behind a Function URL that streams its response
# (InvokeMode RESPONSE_STREAM) to SigV4-signed callers (AWS_IAM). Read-only on the
# results table.
################################################################################

locals {
  # The region, read from the state machine's ARN (no data source: plans the same on 5.x and 6.x).
  region = split(":", var.state_machine_arn)[3]

  # "Function URLs are not supported in the following AWS Regions" (as of the Lambda developer guide,
  # https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html).
  regions_without_function_urls = [
    "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-east-2",
    "ca-west-1", "eu-south-2", "eu-central-2", "il-central-1", "me-central-1",
  ]
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadResults"
    effect    = "Allow"
    actions   = ["dynamodb:Query"]
    resources = [var.table_arn]
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptWithTableKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

# The function, its role (this policy plus its own logs and traces) and its log group.
module "lambda" {
  source = "../lambda"

  name             = var.name
  description      = "stepstream streamer: streams an execution's results from the results table (read-only)."
  role_description = "Streamer Lambda ${var.name}: reads (Query only) its own results table, and logs."
  policy_json      = data.aws_iam_policy_document.this.json

  zip_path      = var.streamer_zip_path
  handler       = var.handler
  runtime       = var.runtime
  architectures = var.architectures
  memory_size   = var.memory_size
  # The longest one stream connection may stay open; a client resumes from its last offset after.
  timeout_seconds      = var.timeout_seconds
  reserved_concurrency = var.reserved_concurrency
  kms_key_arn          = var.kms_key_arn

  environment = {
    TABLE_NAME              = var.table_name
    STATE_MACHINE_ARN       = var.state_machine_arn
    POLL_INTERVAL_MS        = tostring(var.poll_interval_ms)
    MAX_POLL_INTERVAL_MS    = tostring(var.max_poll_interval_ms)
    STREAM_TIMEOUT_SECONDS  = tostring(var.idle_timeout_seconds)
    HEARTBEAT_SECONDS       = tostring(var.heartbeat_seconds)
    LONG_POLL_SECONDS       = tostring(var.long_poll_seconds)
    PAGE_SIZE               = tostring(var.page_size)
    DEADLINE_MARGIN_MS      = tostring(var.deadline_margin_ms)
    MAX_CONNECTION_SECONDS  = tostring(var.max_connection_seconds)
    MAX_EXECUTION_SECONDS   = tostring(var.max_execution_seconds)
    FINAL_RESULT_FIELD_NAME = var.final_result_field_name
    POWERTOOLS_LOG_LEVEL    = var.powertools_log_level
  }

  log_retention_days            = var.log_retention_days
  cloudwatch_logs_kms_key_arn   = var.cloudwatch_logs_kms_key_arn
  role_permissions_boundary_arn = var.role_permissions_boundary_arn

  tags = var.tags
}

resource "aws_lambda_function_url" "this" {
  function_name      = module.lambda.lambda_function_name
  authorization_type = var.authorization_type
  invoke_mode        = "RESPONSE_STREAM"

  lifecycle {
    precondition {
      condition     = var.idle_timeout_seconds * 1000 + var.deadline_margin_ms < var.timeout_seconds * 1000
      error_message = "idle_timeout_seconds plus deadline_margin_ms must be shorter than timeout_seconds, or a stream would hit the Lambda deadline before it could report an idle execution."
    }

    precondition {
      condition     = var.max_connection_seconds * 1000 + var.deadline_margin_ms <= var.timeout_seconds * 1000
      error_message = "max_connection_seconds (${var.max_connection_seconds}) plus deadline_margin_ms (${var.deadline_margin_ms}) must not exceed timeout_seconds (${var.timeout_seconds}, the streamer's Lambda timeout, at most 900): a resumable connection must end by its own bound, cleanly, before Lambda cuts it."
    }

    # Function URLs (and so response streaming through them) do not exist in every region:
    # https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html
    precondition {
      condition     = !contains(local.regions_without_function_urls, local.region)
      error_message = "Lambda Function URLs are not available in ${local.region} (nor in ${join(", ", local.regions_without_function_urls)}; https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html): the stream URL cannot be created there. Deploy stepstream to another region."
    }
  }

  dynamic "cors" {
    for_each = length(var.cors_allow_origins) > 0 ? [1] : []

    content {
      allow_origins     = var.cors_allow_origins
      allow_methods     = ["GET", "HEAD"]
      allow_headers     = var.cors_allow_headers
      expose_headers    = var.cors_expose_headers
      allow_credentials = false
      max_age           = var.cors_max_age_seconds
    }
  }
}

