variable "name" {
  description = "Name of the state machine; also the prefix of the step Lambda (<name>-steps), the IAM roles and the log groups."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1 to 56 characters of A-Z, a-z, 0-9, '_' and '-' (it prefixes the Lambda and role names)."
  }
}

variable "definition" {
  description = "Your workflow's ASL definition, already rendered (a JSON string), or null. Takes precedence over definition_template. null for both: the simulated workflow."
  type        = string
  default     = null

  validation {
    condition     = var.definition == null || can(jsondecode(var.definition).States)
    error_message = "definition must be an ASL document (JSON with States)."
  }
}

variable "definition_template" {
  description = "Path of your workflow's ASL template, rendered with templatefile(): it gets definition_variables plus <key>_function_arn for every function (deployed here or given in lambda_function_arns). null: the simulated workflow's template."
  type        = string
  default     = null
}

variable "definition_variables" {
  description = "Variables of definition_template (besides the <key>_function_arn ones)."
  type        = map(any)
  default     = {}
}

variable "functions" {
  description = "Lambda functions to deploy for the workflow, by key (named <name>-<key>; the ARN reaches the template as <key>_function_arn). Each gets its own role and log group, the results table's environment (TABLE_NAME, RESULT_TTL_DAYS, FINAL_RESULT_FIELD_NAME, POWERTOOLS_LOG_LEVEL) merged under its own, and, with writes_results (default true), exactly what putResult needs on the table. null: the simulated workflow's one step function."
  type = map(object({
    zip_path             = string
    handler              = optional(string)
    description          = optional(string)
    memory_size          = optional(number)
    timeout_seconds      = optional(number)
    reserved_concurrency = optional(number)
    environment          = optional(map(string))
    writes_results       = optional(bool, true)
  }))
  default = null
}

variable "lambda_function_arns" {
  description = "Functions deployed elsewhere that the state machine may invoke, by key (their ARN reaches the template as <key>_function_arn). Give their roles write access with writer_role_arns."
  type        = map(string)
  default     = {}
}

variable "writer_role_arns" {
  description = "IAM roles (deployed elsewhere) that write results, by a key of your choice: each gets the writer policy (writer_policy_json) as an inline policy. Anything that cannot take an inline policy here (another account, a container's task role you manage elsewhere) attaches the writer_policy_json output itself."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for arn in values(var.writer_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "writer_role_arns must map keys to IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "state_machine_policy_json" {
  description = "An IAM policy document (JSON) for the state machine's other service integrations (SNS, SQS, ...), or null. Invoking the functions above is granted already."
  type        = string
  default     = null
}

variable "table_name" {
  description = "Name of the results table the steps write to (TABLE_NAME)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the results table. Writers may PutItem and Query on it and Query its ByRecordKey index, nothing else."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.table_arn))
    error_message = "table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key of the results table, or null. When set, the step Lambda may use it (Decrypt, Encrypt, GenerateDataKey) and it also encrypts the Lambda's environment."
  type        = string
  default     = null
}

variable "steps_zip_path" {
  description = "Path of the step Lambda's zip (built by `make build`). A relative path is read from the root module's directory."
  type        = string
  default     = "../packages/steps/dist/steps.zip"
}

variable "steps_handler" {
  description = "Handler of the step Lambda inside its zip (the zip holds one file, index.mjs)."
  type        = string
  default     = "index.handler"
}

variable "runtime" {
  description = "Lambda runtime of the step function."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs(2[2-9]|[3-9][0-9])\\.x$", var.runtime))
    error_message = "runtime must be nodejs22.x or later (the bundle targets Node 22)."
  }
}

variable "architectures" {
  description = "Instruction set of the step Lambda: [\"arm64\"] (cheaper) or [\"x86_64\"]. The bundle is pure JavaScript and runs on both."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "steps_memory_size" {
  description = "Memory of the step Lambda, MB."
  type        = number
  default     = 256

  validation {
    condition     = var.steps_memory_size >= 128 && var.steps_memory_size <= 10240
    error_message = "steps_memory_size must be between 128 and 10240 MB."
  }
}

variable "steps_timeout_seconds" {
  description = "Timeout of one step Lambda invocation, seconds. A step may work up to 120 s (stepDurationMs + stepJitterMs); an Express execution ends at 300 s anyway."
  type        = number
  default     = 150

  validation {
    condition     = var.steps_timeout_seconds >= 5 && var.steps_timeout_seconds <= 300
    error_message = "steps_timeout_seconds must be between 5 and 300 (the Express workflow limit)."
  }
}

variable "steps_reserved_concurrency" {
  description = "Reserved concurrency of the simulated workflow's step Lambda, or null (default) for none. Opt-in: AWS keeps 100 of the account's concurrency unreserved, so the quota must exceed every reservation plus 100 (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html). When set, the Plan step refuses a concurrency above it (MAX_CONCURRENCY). -1 also means none."
  type        = number
  default     = null

  validation {
    condition     = var.steps_reserved_concurrency == null || var.steps_reserved_concurrency == -1 || try(var.steps_reserved_concurrency >= 1 && var.steps_reserved_concurrency <= 1000, false)
    error_message = "steps_reserved_concurrency must be null (none), -1 (none) or between 1 and 1000."
  }
}

variable "step_wait_seconds" {
  description = "Default Wait before each step, seconds (the run input's stepWaitSeconds overrides it). Rendered into the ASL template."
  type        = number
  default     = 7

  validation {
    condition     = var.step_wait_seconds >= 0 && var.step_wait_seconds <= 60 && floor(var.step_wait_seconds) == var.step_wait_seconds
    error_message = "step_wait_seconds must be a whole number between 0 and 60."
  }
}

variable "final_result_field_name" {
  description = "Name of the field set to true on an execution's final result (FINAL_RESULT_FIELD_NAME)."
  type        = string
  default     = "FinalResult"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,63}$", var.final_result_field_name))
    error_message = "final_result_field_name must start with a letter and hold up to 64 letters, digits and '_'."
  }
}

variable "result_ttl_days" {
  description = "Days a result record is kept before DynamoDB's TTL removes it (RESULT_TTL_DAYS)."
  type        = number
  default     = 7

  validation {
    condition     = var.result_ttl_days > 0 && var.result_ttl_days <= 3650
    error_message = "result_ttl_days must be greater than 0 and at most 3650."
  }
}

variable "powertools_log_level" {
  description = "Log level of the step Lambda (POWERTOOLS_LOG_LEVEL). Record contents are logged only at DEBUG."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.powertools_log_level)
    error_message = "powertools_log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "logging_level" {
  description = "Step Functions execution logging level: ALL, ERROR or FATAL (logging cannot be turned off here: it is how a failed run is diagnosed)."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.logging_level)
    error_message = "logging_level must be ALL, ERROR or FATAL."
  }
}

variable "include_execution_data" {
  description = "Whether execution logs include inputs and outputs (the results themselves). Off by default: results may be sensitive; turn it on to debug."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the step Lambda's and the state machine's log groups, days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "cloudwatch_logs_kms_key_arn" {
  description = "KMS key to encrypt the log groups with, or null for CloudWatch Logs' default encryption. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null
}

variable "role_permissions_boundary_arn" {
  description = "Permissions boundary to attach to the IAM roles, or null."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags to add to every resource."
  type        = map(string)
  default     = {}
}
