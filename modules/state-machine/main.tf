data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The region data source's id is the region name (its `name` attribute is deprecated in
  # provider 6).
  region = data.aws_region.current.id

  role_name      = "${var.name}-role"
  log_group_name = "/aws/vendedlogs/states/${var.name}"

  # Built from names: known at plan time, and the trust policy can name the state machine
  # without a dependency cycle between the role and the machine.
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}"
  role_arn          = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"
}

# ---------------------------------------------------------------------------------------------
# Role
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "StepFunctionsAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Confused-deputy protection: only this account's state machine of this name.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.state_machine_arn]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = var.role_description != "" ? var.role_description : "Runs the ${var.name} state machine."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  statement {
    # CloudWatch Logs' log delivery APIs have no resource-level permissions: Step Functions
    # requires these actions on "*" to deliver execution logs to the log group.
    sid = "DeliverExecutionLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.xray_tracing ? [1] : []

    content {
      # X-Ray's trace and sampling APIs have no resource-level permissions.
      sid = "WriteXRayTraces"
      actions = [
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]
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
  name   = "${var.name}-permissions"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ---------------------------------------------------------------------------------------------
# Log group and state machine
# ---------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (logging.retention_days); one year is not a sensible default for execution logs.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest with its own keys; a customer managed key (logging.kms_key_arn) is the caller's choice, at $1 a month per key and with a key policy for logs.<region>.amazonaws.com. Execution data is not logged by default.
  name              = local.log_group_name
  retention_in_days = var.logging.retention_days
  kms_key_id        = var.logging.kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_284:X-Ray tracing is the caller's choice (xray_tracing).
  #checkov:skip=CKV_AWS_285:Execution logging is on at the caller's level (logging.level); execution data is off by default (logging.include_execution_data) because it carries S3 URIs and parameters.
  name       = var.name
  type       = "STANDARD"
  role_arn   = aws_iam_role.this.arn
  definition = var.definition
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.logging.include_execution_data
    level                  = var.logging.level
  }

  tracing_configuration {
    enabled = var.xray_tracing
  }

  # Step Functions checks at creation that the role may deliver logs.
  depends_on = [aws_iam_role_policy.this]
}
