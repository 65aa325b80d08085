# Realistic values for computed attributes the AWS provider validates (ARNs, URLs), so plans and
# applies against `mock_provider "aws"` succeed offline. One value per resource type; tests
# override single resources where they must tell two of a type apart.

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/test"
    user_id    = "AIDATEST"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
    id   = "us-east-1"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/stepstream-results"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/stepstream-mock-role"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:/mock/log-group"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn        = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-mock"
    invoke_arn = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:stepstream-mock/invocations"
  }
}

mock_resource "aws_lambda_function_url" {
  defaults = {
    function_url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:stepstream-streamer"
    url_id       = "abcdefghijklmnopqrstuvwxyz012345"
  }
}

mock_resource "aws_sfn_state_machine" {
  defaults = {
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:stepstream-workflow"
  }
}

mock_resource "aws_api_gateway_rest_api" {
  defaults = {
    id               = "a1b2c3d4e5"
    root_resource_id = "r00tr3s0ur"
    arn              = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5"
    execution_arn    = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
  }
}

mock_resource "aws_api_gateway_stage" {
  defaults = {
    arn           = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/v1"
    execution_arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1"
    invoke_url    = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/v1"
  }
}
