variable "aws_region" {
  description = "AWS region to deploy to (one with Lambda Function URLs)."
  type        = string
  default     = "us-east-1"
}

variable "summarize_zip_path" {
  description = "Zip of src/summarize.mjs bundled with @stepstream/steps (index.mjs inside)."
  type        = string
  default     = "dist/summarize.zip"
}

variable "translate_zip_path" {
  description = "Zip of src/translate.mjs bundled with @stepstream/steps (index.mjs inside)."
  type        = string
  default     = "dist/translate.zip"
}

variable "finish_zip_path" {
  description = "Zip of src/finish.mjs bundled with @stepstream/steps (index.mjs inside)."
  type        = string
  default     = "dist/finish.zip"
}

variable "streamer_zip_path" {
  description = "The streamer zip (packages/streamer/dist/streamer.zip after `make build`)."
  type        = string
  default     = "../../../packages/streamer/dist/streamer.zip"
}

variable "writer_role_arns" {
  description = "Roles of this account that also write results (e.g. an ECS task role), by a key of your choice."
  type        = map(string)
  default     = {}
}
