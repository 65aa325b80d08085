variable "name" {
  description = "Name of the REST API; also the prefix of its IAM roles and log groups."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name))
    error_message = "name must be 1 to 48 characters of A-Z, a-z, 0-9, '_' and '-' (it prefixes role names)."
  }
}

variable "state_machine_arn" {
  description = "ARN of the state machine POST / starts. The API's role may call states:StartExecution on it and nothing else. Region, account and partition are read from it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "stream_url" {
  description = "The streaming Function URL (ends with \"/\"): returned as lambdaResultURL, and with ?executionArn=<ARN> as completeLambdaResultURL."
  type        = string

  validation {
    condition     = can(regex("^https://.+/$", var.stream_url))
    error_message = "stream_url must be an https URL ending with \"/\" (a Lambda Function URL)."
  }
}

variable "request_model_schema" {
  description = "The start API's request model: a JSON Schema (draft-04, the dialect API Gateway validates with) document as a string, e.g. file(\"input.schema.json\"). API Gateway refuses (400) a body that does not match it, before anything starts; its description is the message of that 400. null (default): the simulated workflow's model, templates/workflow-input.schema.json."
  type        = string
  default     = null

  validation {
    condition     = var.request_model_schema == null || can(jsondecode(var.request_model_schema).type)
    error_message = "request_model_schema must be a JSON Schema document (a JSON object with a type)."
  }

  validation {
    condition     = var.request_model_schema == null || try(jsondecode(var.request_model_schema)["$schema"] == "http://json-schema.org/draft-04/schema#", false)
    error_message = "request_model_schema must declare \"$schema\": \"http://json-schema.org/draft-04/schema#\": API Gateway models are JSON Schema draft 4."
  }

  validation {
    condition     = var.request_model_schema == null || !strcontains(try(tostring(jsondecode(var.request_model_schema).description), ""), "$")
    error_message = "The request model's description becomes the message of a refused body in a gateway response, where API Gateway substitutes $-variables: it must not contain \"$\"."
  }
}

variable "authorization" {
  description = "Authorization of POST /. AWS_IAM (default): callers sign with SigV4 (service execute-api) and need execute-api:Invoke. RISK of NONE: the API becomes public; anyone who finds the URL can start executions, each billed to you (Step Functions, Lambda, DynamoDB), up to the throttling limits. The stream URL stays AWS_IAM, so results are not exposed. Use NONE only for a short-lived public demo."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.authorization)
    error_message = "authorization must be AWS_IAM or NONE."
  }
}

variable "stage_name" {
  description = "Name of the API stage (the last path segment of the endpoint)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1 to 128 characters of A-Z, a-z, 0-9, '_' and '-'."
  }
}

variable "throttling_burst_limit" {
  description = "Stage throttling: the most requests API Gateway accepts in a burst. Each accepted request starts a billed execution."
  type        = number
  default     = 20

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number between 1 and 5000."
  }
}

variable "throttling_rate_limit" {
  description = "Stage throttling: steady-state requests per second."
  type        = number
  default     = 10

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be greater than 0 and at most 10000."
  }
}

variable "logging_level" {
  description = "Stage execution logging level: INFO or ERROR. Request and response bodies are never logged (data trace is off)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["INFO", "ERROR"], var.logging_level)
    error_message = "logging_level must be INFO or ERROR."
  }
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser, e.g. [\"https://app.example.com\"]. Empty (default): no CORS, no OPTIONS method. \"*\" is refused."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_allow_origins : o != "*" && can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "cors_allow_origins must list explicit origins (scheme://host[:port], no path, no \"*\")."
  }
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

variable "manage_account_cloudwatch_role" {
  description = "Whether to create the IAM role API Gateway uses to write logs and set it as this account's API Gateway setting (one per account and region). API Gateway needs it before a stage can log; leave true on an account that has none, set false if `aws apigateway get-account` already shows a cloudwatchRoleArn (this would replace it). Destroying it keeps the setting on provider 5.x, and resets it on 6.x."
  type        = bool
  default     = true
}

variable "web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (REGIONAL scope) to associate with the stage, or null (default)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the API's access and execution log groups, days."
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
