variable "aws_region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as us-east-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (table <prefix>-results, state machine <prefix>-workflow, ...). Use a different one per stack in the same account and region."
  type        = string
  default     = "stepstream"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3 to 32 characters of lowercase letters, digits and '-', starting with a letter."
  }
}

variable "step_wait_seconds" {
  description = "Default Wait before each step, seconds (as the AWS sample: 7). A run's input stepWaitSeconds overrides it."
  type        = number
  default     = 7

  validation {
    condition     = var.step_wait_seconds >= 0 && var.step_wait_seconds <= 60 && floor(var.step_wait_seconds) == var.step_wait_seconds
    error_message = "step_wait_seconds must be a whole number between 0 and 60."
  }
}

variable "final_result_field_name" {
  description = "Name of the field set to true on an execution's final result record."
  type        = string
  default     = "FinalResult"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.final_result_field_name))
    error_message = "final_result_field_name must start with a letter and hold up to 64 letters, digits and '_'."
  }
}

variable "streamer_lambda_timeout_seconds" {
  description = "Streamer Lambda timeout, seconds: the longest one stream connection stays open (and is billed). The stream ends cleanly just before it; the client resumes from its last offset."
  type        = number
  default     = 360

  validation {
    condition     = var.streamer_lambda_timeout_seconds >= 10 && var.streamer_lambda_timeout_seconds <= 900 && floor(var.streamer_lambda_timeout_seconds) == var.streamer_lambda_timeout_seconds
    error_message = "streamer_lambda_timeout_seconds must be a whole number between 10 and 900 (the Lambda maximum)."
  }
}

variable "stream_timeout_seconds" {
  description = "With no new record for this long, a stream ends with a synthetic timeout record (STREAM_TIMEOUT_SECONDS). Must be at least 3 s shorter than streamer_lambda_timeout_seconds. The default outlasts the 300 s an Express execution may run."
  type        = number
  default     = 330

  validation {
    condition     = var.stream_timeout_seconds >= 1 && var.stream_timeout_seconds <= 890 && floor(var.stream_timeout_seconds) == var.stream_timeout_seconds
    error_message = "stream_timeout_seconds must be a whole number between 1 and 890."
  }
}

variable "stream_max_connection_seconds" {
  description = "Longest connection of a resumable read (live=jsonl, live=sse), seconds (MAX_CONNECTION_SECONDS): then the stream ends cleanly and the client resumes from its offset. Lambda tells the streamer nothing when a client goes away, so this bounds what an abandoned reader costs. At most streamer_lambda_timeout_seconds minus 2 s."
  type        = number
  default     = 60

  validation {
    condition     = var.stream_max_connection_seconds >= 1 && var.stream_max_connection_seconds <= 900 && floor(var.stream_max_connection_seconds) == var.stream_max_connection_seconds
    error_message = "stream_max_connection_seconds must be a whole number between 1 and 900 (Lambda's longest timeout)."
  }
}

variable "stream_max_execution_seconds" {
  description = "Latest an execution can still write, seconds after its start (MAX_EXECUTION_SECONDS): past it, with no terminal record (a run no Catch could end), readers end with a timeout record. Must outlast the state machine's TimeoutSeconds (Express: at most 300 s)."
  type        = number
  default     = 330

  validation {
    condition     = var.stream_max_execution_seconds >= 1 && var.stream_max_execution_seconds <= 3600 && floor(var.stream_max_execution_seconds) == var.stream_max_execution_seconds
    error_message = "stream_max_execution_seconds must be a whole number between 1 and 3600."
  }
}

variable "poll_interval_ms" {
  description = "First interval at which the streamer polls the table after records arrive, ms."
  type        = number
  default     = 50

  validation {
    condition     = var.poll_interval_ms >= 10 && var.poll_interval_ms <= 10000 && floor(var.poll_interval_ms) == var.poll_interval_ms
    error_message = "poll_interval_ms must be a whole number between 10 and 10000."
  }
}

variable "max_poll_interval_ms" {
  description = "Longest poll interval while nothing arrives, ms (the interval grows x4/3 per empty poll up to it)."
  type        = number
  default     = 500

  validation {
    condition     = var.max_poll_interval_ms >= 10 && var.max_poll_interval_ms <= 30000 && floor(var.max_poll_interval_ms) == var.max_poll_interval_ms
    error_message = "max_poll_interval_ms must be a whole number between 10 and 30000."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group (both Lambdas, the state machine, the API), days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "result_ttl_days" {
  description = "Days a result record is kept before DynamoDB's TTL removes it."
  type        = number
  default     = 7

  validation {
    condition     = var.result_ttl_days > 0 && var.result_ttl_days <= 3650
    error_message = "result_ttl_days must be greater than 0 and at most 3650."
  }
}

variable "api_authorization" {
  description = "Authorization of the start API's POST /. AWS_IAM (default): callers sign with SigV4. RISK of NONE: the API becomes public; anyone who finds the URL can start executions billed to you, up to the throttling limits (the stream URL stays AWS_IAM, so results are not exposed). Use NONE only for a short-lived public demo."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.api_authorization)
    error_message = "api_authorization must be AWS_IAM or NONE."
  }
}

variable "cors_allow_origins" {
  description = "Browser origins allowed to call the API and the stream URL, e.g. [\"https://app.example.com\"]. Empty (default): no CORS. \"*\" is refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allow_origins : o != "*" && can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "cors_allow_origins must list explicit origins (scheme://host[:port], no path, no \"*\")."
  }
}

variable "api_throttling_burst_limit" {
  description = "Start API throttling: the most requests accepted in a burst. Each accepted request starts a billed execution."
  type        = number
  default     = 20

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && var.api_throttling_burst_limit <= 5000 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number between 1 and 5000."
  }
}

variable "api_throttling_rate_limit" {
  description = "Start API throttling: steady-state requests per second."
  type        = number
  default     = 10

  validation {
    condition     = var.api_throttling_rate_limit > 0 && var.api_throttling_rate_limit <= 10000
    error_message = "api_throttling_rate_limit must be greater than 0 and at most 10000."
  }
}

variable "steps_reserved_concurrency" {
  description = "Reserved concurrency of the step Lambda, or null (default) for none. Opt-in: AWS keeps 100 of the account's concurrency unreserved, so the quota must exceed every reservation plus 100 (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html; checked before apply). When set, the API's model and the Plan step refuse a concurrency above it."
  type        = number
  default     = null

  validation {
    condition     = var.steps_reserved_concurrency == null || var.steps_reserved_concurrency == -1 || try(var.steps_reserved_concurrency >= 1 && var.steps_reserved_concurrency <= 1000, false)
    error_message = "steps_reserved_concurrency must be null (none), -1 (none) or between 1 and 1000."
  }
}

variable "streamer_reserved_concurrency" {
  description = "Reserved concurrency of the streamer (the most streams open at once), or null (default) for none. Opt-in: AWS keeps 100 of the account's concurrency unreserved (checked before apply); abandoned readers, which Lambda cannot see leave, can exhaust a reservation."
  type        = number
  default     = null

  validation {
    condition     = var.streamer_reserved_concurrency == null || var.streamer_reserved_concurrency == -1 || try(var.streamer_reserved_concurrency >= 1 && var.streamer_reserved_concurrency <= 1000, false)
    error_message = "streamer_reserved_concurrency must be null (none), -1 (none) or between 1 and 1000."
  }
}

variable "log_level" {
  description = "Log level of both Lambdas (POWERTOOLS_LOG_LEVEL). Record contents are logged only at DEBUG."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "state_machine_logging_level" {
  description = "Step Functions execution logging level: ALL, ERROR or FATAL."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.state_machine_logging_level)
    error_message = "state_machine_logging_level must be ALL, ERROR or FATAL."
  }
}

variable "include_execution_data" {
  description = "Whether state machine logs include inputs and outputs (the results). Off by default: turn it on to debug."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the results table (and the Lambdas' environment), or null (default): the table uses the AWS owned key (no KMS charge) and the Lambda environments the AWS managed key. The Lambdas' roles get only the key actions they need."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "cloudwatch_logs_kms_key_arn" {
  description = "KMS key to encrypt every log group with, or null (default) for CloudWatch Logs' default encryption. Its key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null
}

variable "manage_api_gateway_account_cloudwatch_role" {
  description = "Whether to create the IAM role API Gateway writes logs with and set it as this account's (region-wide) API Gateway setting, which stage logging requires. Keep true on an account that has none; set false when `aws apigateway get-account` already shows a cloudwatchRoleArn (true would replace it). On provider 6.x, destroying the stack also resets that setting."
  type        = bool
  default     = true
}

variable "api_web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (REGIONAL) to put in front of the start API, or null (default; WAF bills per ACL and rule)."
  type        = string
  default     = null
}

variable "deletion_protection_enabled" {
  description = "Whether the results table refuses deletion. Off by default so `make destroy` removes everything."
  type        = bool
  default     = false
}

variable "role_permissions_boundary_arn" {
  description = "Permissions boundary to attach to every IAM role, or null (some organisations require one)."
  type        = string
  default     = null
}

variable "steps_zip_path" {
  description = "Step Lambda zip built by `make build`; a relative path is read from this directory (infra/)."
  type        = string
  default     = "../packages/steps/dist/steps.zip"
}

variable "streamer_zip_path" {
  description = "Streamer zip built by `make build`; a relative path is read from this directory (infra/)."
  type        = string
  default     = "../packages/streamer/dist/streamer.zip"
}

variable "tags" {
  description = "Tags added to every resource (merged over Project = stepstream, ManagedBy = terraform)."
  type        = map(string)
  default     = {}
}
