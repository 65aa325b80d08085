variable "name" {
  description = "Name of the streamer Lambda; also its IAM role and log group (/aws/lambda/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'."
  }
}

variable "table_name" {
  description = "Name of the results table to read (TABLE_NAME)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the results table. The streamer may only Query it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.table_arn))
    error_message = "table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key of the results table, or null. When set, the streamer may Decrypt with it and it also encrypts the Lambda's environment."
  type        = string
  default     = null
}

variable "state_machine_arn" {
  description = "ARN of the state machine whose executions may be streamed (STATE_MACHINE_ARN); any other execution ARN is refused."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "streamer_zip_path" {
  description = "Path of the streamer's zip (built by `make build`). A relative path is read from the root module's directory."
  type        = string
  default     = "../packages/streamer/dist/streamer.zip"
}

variable "handler" {
  description = "Handler of the streamer inside its zip (the zip holds one file, index.mjs)."
  type        = string
  default     = "index.handler"
}

variable "runtime" {
  description = "Lambda runtime of the streamer."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs(2[2-9]|[3-9][0-9])\\.x$", var.runtime))
    error_message = "runtime must be nodejs22.x or later (the bundle targets Node 22)."
  }
}

variable "architectures" {
  description = "Instruction set of the streamer: [\"arm64\"] (cheaper) or [\"x86_64\"]."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "memory_size" {
  description = "Memory of the streamer, MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Lambda timeout of the streamer, seconds: the longest one stream connection stays open (billed while open). The stream ends cleanly deadline_margin_ms before it and the client resumes from its last offset."
  type        = number
  default     = 360

  validation {
    condition     = var.timeout_seconds >= 10 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 10 and 900 (the Lambda maximum)."
  }
}

variable "idle_timeout_seconds" {
  description = "With no new record for this long, a stream ends with a synthetic timeout record (STREAM_TIMEOUT_SECONDS). Must be shorter than timeout_seconds."
  type        = number
  default     = 330

  validation {
    condition     = var.idle_timeout_seconds >= 1 && var.idle_timeout_seconds <= 890 && floor(var.idle_timeout_seconds) == var.idle_timeout_seconds
    error_message = "idle_timeout_seconds must be a whole number between 1 and 890."
  }
}

variable "max_connection_seconds" {
  description = "Longest connection of a resumable read (live=jsonl, live=sse), seconds (MAX_CONNECTION_SECONDS): then the stream ends cleanly and the client resumes from its offset. Lambda tells a function nothing when its client goes away, so this bounds what an abandoned reader costs (streamer time and Queries). Must leave deadline_margin_ms before timeout_seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.max_connection_seconds >= 1 && var.max_connection_seconds <= 900 && floor(var.max_connection_seconds) == var.max_connection_seconds
    error_message = "max_connection_seconds must be a whole number between 1 and 900 (Lambda's longest timeout)."
  }
}

variable "max_execution_seconds" {
  description = "Latest an execution can still write, seconds after the start time its name carries (MAX_EXECUTION_SECONDS): past it, with no terminal record, readers end with a timeout record. Must outlast the state machine's own TimeoutSeconds (Express: at most 300 s) plus the time its last write takes to land."
  type        = number
  default     = 330

  validation {
    condition     = var.max_execution_seconds >= 1 && var.max_execution_seconds <= 3600 && floor(var.max_execution_seconds) == var.max_execution_seconds
    error_message = "max_execution_seconds must be a whole number between 1 and 3600."
  }
}

variable "poll_interval_ms" {
  description = "First poll interval of the table after records arrive, ms (POLL_INTERVAL_MS)."
  type        = number
  default     = 50

  validation {
    condition     = var.poll_interval_ms >= 10 && var.poll_interval_ms <= 10000 && floor(var.poll_interval_ms) == var.poll_interval_ms
    error_message = "poll_interval_ms must be a whole number between 10 and 10000."
  }
}

variable "max_poll_interval_ms" {
  description = "Longest poll interval while nothing arrives, ms (MAX_POLL_INTERVAL_MS); the interval grows x4/3 per empty poll up to it."
  type        = number
  default     = 500

  validation {
    condition     = var.max_poll_interval_ms >= 10 && var.max_poll_interval_ms <= 30000 && floor(var.max_poll_interval_ms) == var.max_poll_interval_ms
    error_message = "max_poll_interval_ms must be a whole number between 10 and 30000."
  }
}

variable "heartbeat_seconds" {
  description = "An empty line is written after this much silence so proxies keep the connection (HEARTBEAT_SECONDS)."
  type        = number
  default     = 15

  validation {
    condition     = var.heartbeat_seconds >= 1 && var.heartbeat_seconds <= 300 && floor(var.heartbeat_seconds) == var.heartbeat_seconds
    error_message = "heartbeat_seconds must be a whole number between 1 and 300."
  }
}

variable "long_poll_seconds" {
  description = "How long a long-poll read waits for a new record (LONG_POLL_SECONDS)."
  type        = number
  default     = 20

  validation {
    condition     = var.long_poll_seconds >= 1 && var.long_poll_seconds <= 300 && floor(var.long_poll_seconds) == var.long_poll_seconds
    error_message = "long_poll_seconds must be a whole number between 1 and 300."
  }
}

variable "page_size" {
  description = "Records read per DynamoDB Query (PAGE_SIZE)."
  type        = number
  default     = 200

  validation {
    condition     = var.page_size >= 1 && var.page_size <= 1000 && floor(var.page_size) == var.page_size
    error_message = "page_size must be a whole number between 1 and 1000."
  }
}

variable "deadline_margin_ms" {
  description = "The stream ends this long before the Lambda deadline so it closes cleanly (DEADLINE_MARGIN_MS)."
  type        = number
  default     = 2000

  validation {
    condition     = var.deadline_margin_ms >= 100 && var.deadline_margin_ms <= 60000 && floor(var.deadline_margin_ms) == var.deadline_margin_ms
    error_message = "deadline_margin_ms must be a whole number between 100 and 60000."
  }
}

variable "final_result_field_name" {
  description = "Name of the field set to true on an execution's final result (FINAL_RESULT_FIELD_NAME); must match the workflow's."
  type        = string
  default     = "FinalResult"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.final_result_field_name))
    error_message = "final_result_field_name must start with a letter and hold up to 64 letters, digits and '_'."
  }
}

variable "powertools_log_level" {
  description = "Log level of the streamer (POWERTOOLS_LOG_LEVEL). Record contents are never logged above DEBUG."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.powertools_log_level)
    error_message = "powertools_log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the streamer (the most streams open at once: each holds one instance), or null (default) for none. Opt-in: AWS keeps 100 of the account's concurrency unreserved, so the quota must exceed every reservation plus 100 (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html); a reservation also lets abandoned readers (which Lambda cannot see go) exhaust it. -1 also means none."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || var.reserved_concurrency == -1 || try(var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000, false)
    error_message = "reserved_concurrency must be null (none), -1 (none) or between 1 and 1000."
  }
}

variable "authorization_type" {
  description = "Auth of the Function URL. Only AWS_IAM is accepted: callers sign with SigV4 (service lambda) and need lambda:InvokeFunctionUrl and lambda:InvokeFunction on the streamer."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = var.authorization_type == "AWS_IAM"
    error_message = "The stream URL is AWS_IAM only: a public (NONE) URL would let anyone read any execution's results of this state machine."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the stream URL from a browser, e.g. [\"https://app.example.com\"]. Empty (default): no CORS. \"*\" is refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allow_origins : o != "*" && can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "cors_allow_origins must list explicit origins (scheme://host[:port], no path, no \"*\")."
  }
}

variable "cors_allow_headers" {
  description = "Request headers a browser may send (SigV4 headers, Last-Event-ID for SSE resumption, If-None-Match for ETag revalidation)."
  type        = list(string)
  default     = ["authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "last-event-id", "if-none-match"]
}

variable "cors_expose_headers" {
  description = "Response headers a browser may read (the Durable Streams headers)."
  type        = list(string)
  default     = ["Stream-Next-Offset", "Stream-Up-To-Date", "Stream-Cursor", "Stream-Closed", "ETag"]
}

variable "cors_max_age_seconds" {
  description = "How long a browser may cache the CORS preflight, seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be between 0 and 86400."
  }
}

variable "log_retention_days" {
  description = "Retention of the streamer's log group, days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "cloudwatch_logs_kms_key_arn" {
  description = "KMS key to encrypt the log group with, or null for CloudWatch Logs' default encryption. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null
}

variable "role_permissions_boundary_arn" {
  description = "Permissions boundary to attach to the IAM role, or null."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags to add to every resource."
  type        = map(string)
  default     = {}
}
