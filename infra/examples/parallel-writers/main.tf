################################################################################
# Example: your own workflow with stepstream. A Parallel of two branches whose
# Lambdas write results as they produce them (a summary, and tokens as a
# model would stream them), then a final record. One module call: your ASL
# template, your functions' zips, your request model.
#
#   (build src/*.mjs into dist/*.zip, see src/summarize.mjs)
#   terraform -chdir=infra/examples/parallel-writers init
#   terraform -chdir=infra/examples/parallel-writers apply
################################################################################

provider "aws" {
  region = var.aws_region
}

module "stepstream" {
  source = "../../modules/stepstream"

  name = "parallel-writers"

  # Your ASL, rendered with templatefile(): each function's ARN arrives as <key>_function_arn.
  definition_template  = "${path.module}/workflow.asl.json.tftpl"
  definition_variables = { task_timeout_seconds = 60 }

  # Your functions, deployed from your zips (relative to this directory). Each may append results:
  # the module grants exactly what putResult needs on the table and its index.
  functions = {
    summarize = { zip_path = var.summarize_zip_path, timeout_seconds = 50 }
    translate = { zip_path = var.translate_zip_path, timeout_seconds = 50, memory_size = 512 }
    finish    = { zip_path = var.finish_zip_path, timeout_seconds = 15 }
  }

  # Anything else that writes results (a container, an ECS task) by its role.
  writer_role_arns = var.writer_role_arns

  # What POST / accepts: API Gateway refuses anything else with 400 before a run starts.
  request_model_schema = file("${path.module}/input.schema.json")

  streamer_zip_path  = var.streamer_zip_path
  log_retention_days = 14
  tags               = { Project = "stepstream", Example = "parallel-writers" }
}
