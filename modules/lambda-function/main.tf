data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The region data source's id is the region name (its `name` attribute is deprecated in
  # provider 6).
  region = data.aws_region.current.id

  role_name      = "${var.function_name}-role"
  log_group_name = "/aws/lambda/${var.function_name}"

  # ARNs built from names, so that they are known at plan time (plans show the real policies)
  # and callers can reference them without waiting for the resources.
  function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.function_name}"
  role_arn      = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
}

# ---------------------------------------------------------------------------------------------
# Role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  # Lambda documents no aws:SourceAccount / aws:SourceArn for assuming an execution role, so
  # the trust policy names the service only: a condition here would stop the function running.
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = "Runs the ${var.function_name} Lambda function."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "WriteOwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  dynamic "statement" {
    for_each = var.lambda_settings.tracing ? [1] : []

    content {
      # X-Ray's trace APIs have no resource-level permissions: "*" is the only resource.
      sid       = "WriteXRayTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-permissions"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ---------------------------------------------------------------------------------------------
# Log group (created before the function, so Lambda never creates it without retention)
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (logging.retention_days); one year is not a sensible default for function logs.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with its own keys; a customer managed key (logging.kms_key_arn) is the caller's choice, at $1 a month per key and with a key policy for logs.<region>.amazonaws.com. The functions log names and outcomes, no secrets.
  name              = local.log_group_name
  retention_in_days = var.logging.retention_days
  kms_key_id        = var.logging.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------------

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Step Functions, which retries and catches failures; the S3 trigger (invoked asynchronously) has an on-failure destination instead of a dead-letter queue: its event invoke config sends the full invocation record to a queue (modules/ml-parameter-provider).
  #checkov:skip=CKV_AWS_117:The functions call AWS APIs only and need no VPC resources; attaching them to a VPC would need NAT or VPC endpoints for every API they call.
  #checkov:skip=CKV_AWS_173:The environment variables hold ARNs, prefixes and log settings, nothing secret.
  #checkov:skip=CKV_AWS_115:Invocations follow workflow executions (a handful per run); a reserved concurrency would only take capacity from the account.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the caller owns; the package is built reproducibly and its hash is tracked by Terraform.
  function_name    = var.function_name
  description      = var.description
  role             = aws_iam_role.this.arn
  handler          = var.handler
  runtime          = var.lambda_settings.runtime
  timeout          = var.timeout
  memory_size      = var.memory_size
  filename         = var.lambda_settings.package_path
  source_code_hash = filebase64sha256(var.lambda_settings.package_path)
  tags             = var.tags

  dynamic "environment" {
    for_each = length(var.environment_variables) > 0 ? [1] : []

    content {
      variables = var.environment_variables
    }
  }

  tracing_config {
    mode = var.lambda_settings.tracing ? "Active" : "PassThrough"
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}
