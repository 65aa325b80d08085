output "dynamodb_table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.this.name
}

output "dynamodb_table_arn" {
  description = "ARN of the results table."
  value       = aws_dynamodb_table.this.arn
}

output "dynamodb_table_index_arns" {
  description = "ARNs of the table's secondary indexes, by index name (ByRecordKey)."
  value       = { ByRecordKey = "${aws_dynamodb_table.this.arn}/index/ByRecordKey" }
}

output "dynamodb_table_kms_key_arn" {
  description = "ARN of the customer managed KMS key the table is encrypted with, or null for the AWS owned key."
  value       = var.kms_key_arn
}
