################################################################################
# Results table
#
# One item per record an execution writes. The keys are the ones defined once in
# packages/results-schema (TABLE_SCHEMA): partition key ExecutionArn (S), sort key
# Seq (N), a local secondary index ByRecordKey on RecordKey (S) that writers query
# to make appends idempotent, and the TTL attribute ExpiresAt (epoch seconds).
################################################################################

#trivy:ignore:AVD-AWS-0025
resource "aws_dynamodb_table" "this" {
  # checkov:skip=CKV_AWS_119:A customer managed KMS key is optional (var.kms_key_arn); without one the table is encrypted at rest with the AWS owned key, which costs nothing and needs no key policy.
  name         = var.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "ExecutionArn"
  range_key    = "Seq"

  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = "ExecutionArn"
    type = "S"
  }

  attribute {
    name = "Seq"
    type = "N"
  }

  attribute {
    name = "RecordKey"
    type = "S"
  }

  local_secondary_index {
    name            = "ByRecordKey"
    range_key       = "RecordKey"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "ExpiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  # Without a key of yours the table is encrypted with the AWS owned key (free): no block at all.
  # `enabled = true` without a key would mean the AWS *managed* key (aws/dynamodb), billed per KMS
  # request (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html).
  dynamic "server_side_encryption" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      enabled     = true
      kms_key_arn = server_side_encryption.value
    }
  }

  tags = var.tags
}
