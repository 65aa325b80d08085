variable "name" {
  description = "Name of the DynamoDB table."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "A DynamoDB table name is 3 to 255 characters of A-Z, a-z, 0-9, '_', '-' and '.'."
  }
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key to encrypt the table with. null (default) uses the AWS owned key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "point_in_time_recovery_enabled" {
  description = "Whether point-in-time recovery (continuous backups) is enabled. Records are short-lived (TTL), but PITR protects them against an accidental delete while they live."
  type        = bool
  default     = true
}

variable "deletion_protection_enabled" {
  description = "Whether DynamoDB refuses to delete the table. Off by default so `terraform destroy` removes everything; turn it on for a stack you keep."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags to add to every resource."
  type        = map(string)
  default     = {}
}
