# The results-table module: keys from packages/results-schema, TTL, PITR, on-demand billing, SSE.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "stepstream-results"
}

run "keys_index_ttl_pitr_and_encryption" {
  command = plan

  module {
    source = "./modules/results-table"
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "ExecutionArn" && aws_dynamodb_table.this.range_key == "Seq"
    error_message = "Keys must be ExecutionArn (partition) and Seq (sort)."
  }

  assert {
    condition = aws_dynamodb_table.this.attribute == toset([
      { name = "ExecutionArn", type = "S" },
      { name = "Seq", type = "N" },
      { name = "RecordKey", type = "S" },
    ])
    error_message = "Attributes must be ExecutionArn (S), Seq (N) and RecordKey (S)."
  }

  assert {
    condition = [
      for i in aws_dynamodb_table.this.local_secondary_index : [i.name, i.range_key, i.projection_type]
    ] == [["ByRecordKey", "RecordKey", "KEYS_ONLY"]]
    error_message = "The table must have the local secondary index ByRecordKey on RecordKey, KEYS_ONLY."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].attribute_name == "ExpiresAt" && aws_dynamodb_table.this.ttl[0].enabled
    error_message = "TTL must be enabled on ExpiresAt."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "Point-in-time recovery must be on."
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "The table must bill on demand."
  }

  # Issue 11 item 7: `enabled = true` without a key is the AWS managed key (KMS charges); the AWS
  # owned key (free, always on) is no server_side_encryption block at all.
  assert {
    condition     = length(aws_dynamodb_table.this.server_side_encryption) == 0
    error_message = "Without kms_key_arn the table must use the AWS owned key (no server_side_encryption block), not the AWS managed key."
  }
}

run "customer_key" {
  command = plan

  module {
    source = "./modules/results-table"
  }

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "A given customer managed key must encrypt the table."
  }
}

run "rejects_a_key_that_is_not_an_arn" {
  command = plan

  module {
    source = "./modules/results-table"
  }

  variables {
    kms_key_arn = "alias/my-key"
  }

  expect_failures = [var.kms_key_arn]
}
