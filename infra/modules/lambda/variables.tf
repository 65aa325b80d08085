variable "name" {
  description = "Name of the function; also of its IAM role (unless role_name is set) and its log group (/aws/lambda/<name>)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = ""
}

variable "role_name" {
  description = "Name of the function's IAM role (and inline policy), or null for the function's name."
  type        = string
  default     = null
}

variable "role_description" {
  description = "Description of the function's IAM role."
  type        = string
  default     = null
}

variable "policy_json" {
  description = "An IAM policy document (JSON) of what the function may do besides writing its own logs and traces (for instance the writer policy of the results table), or null."
  type        = string
  default     = null
}

variable "zip_path" {
  description = "Path of the function's zip. A relative path is read from the root module's directory."
  type        = string
}

variable "missing_zip_hint" {
  description = "What to say when the zip does not exist (a check warns; apply then fails)."
  type        = string
  default     = "run `make build` first (it builds the Lambda zips Terraform deploys)."
}

variable "handler" {
  description = "Handler inside the zip."
  type        = string
  default     = "index.handler"
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "nodejs22.x"

  validation {
    condition     = can(regex("^nodejs(2[2-9]|[3-9][0-9])\\.x$", var.runtime))
    error_message = "runtime must be nodejs22.x or later (the bundles target Node 22)."
  }
}

variable "architectures" {
  description = "Instruction set: [\"arm64\"] (cheaper) or [\"x86_64\"]."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "memory_size" {
  description = "Memory, MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout_seconds" {
  description = "Timeout of one invocation, seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900 (the Lambda maximum)."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency, or null (default) for none. A reservation is both a ceiling for this function and a floor taken from the account: AWS keeps 100 of the account's concurrency unreserved (https://docs.aws.amazon.com/lambda/latest/dg/configuring-concurrency.html), so the account quota must exceed every reservation plus 100. -1 also means none."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || var.reserved_concurrency == -1 || (try(var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000 && floor(var.reserved_concurrency) == var.reserved_concurrency, false))
    error_message = "reserved_concurrency must be null (none), -1 (none) or a whole number between 1 and 1000."
  }
}

variable "environment" {
  description = "Environment variables (non-secret settings only: they are readable by anyone who may read the function's configuration)."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the environment, or null for Lambda's AWS managed key."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the function's log group, days."
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
  description = "Permissions boundary of the IAM role, or null."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags to add to every resource."
  type        = map(string)
  default     = {}
}
