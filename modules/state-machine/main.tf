locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

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

locals {
  # The role's policies are written as JSON here rather than read from aws_iam_policy_document
  # data sources: each data source is one more read in every plan.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "StepFunctionsAssumesRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "states.amazonaws.com" }
      # Confused-deputy protection: only this account's state machine of this name.
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = var.role_description != "" ? var.role_description : "Runs the ${var.name} state machine."
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

locals {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        # CloudWatch Logs' log delivery APIs have no resource-level permissions: Step Functions
        # requires these actions on "*" to deliver execution logs to the log group.
        Sid    = "DeliverExecutionLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:DescribeLogGroups",
          "logs:DescribeResourcePolicies",
          "logs:GetLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:UpdateLogDelivery",
        ]
        Resource = ["*"]
      }],
      # X-Ray's trace and sampling APIs have no resource-level permissions.
      var.xray_tracing ? [{
        Sid    = "WriteXRayTraces"
        Effect = "Allow"
        Action = [
          "xray:GetSamplingRules",
          "xray:GetSamplingTargets",
          "xray:PutTelemetryRecords",
          "xray:PutTraceSegments",
        ]
        Resource = ["*"]
      }] : [],
      [
        for statement in var.policy_statements : merge(
          { Sid = statement.sid, Effect = "Allow", Action = statement.actions, Resource = statement.resources },
          length(statement.conditions) == 0 ? {} : {
            # One block per operator, one key per condition key (values of a repeated key merge).
            Condition = {
              for test in distinct([for condition in statement.conditions : condition.test]) : test => {
                for key, values in {
                  for condition in statement.conditions : condition.variable => condition.values... if condition.test == test
                } : key => flatten(values)
              }
            }
          },
        )
      ],
    )
  })
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-permissions"
  role   = aws_iam_role.this.id
  policy = local.policy
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
