locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

  role_name      = "${var.function_name}-role"
  log_group_name = "/aws/lambda/${var.function_name}"

  # ARNs built from names, so that they are known at plan time (plans show the real policies)
  # and callers can reference them without waiting for the resources.
  function_arn  = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.function_name}"
  role_arn      = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"
  log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"

  package_s3 = var.lambda_settings.package_s3
}

# ---------------------------------------------------------------------------------------------
# Role
# ---------------------------------------------------------------------------------------------

locals {
  # The role's policies are written as JSON here rather than read from aws_iam_policy_document
  # data sources: each data source is one more read in every plan.
  #
  # Lambda documents no aws:SourceAccount / aws:SourceArn for assuming an execution role, so
  # the trust policy names the service only: a condition here would stop the function running.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssumesRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role" "this" {
  name               = local.role_name
  description        = "Runs the ${var.function_name} Lambda function."
  assume_role_policy = local.assume_role_policy
  tags               = var.tags
}

locals {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid      = "WriteOwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:*"]
      }],
      # X-Ray's trace APIs have no resource-level permissions: "*" is the only resource.
      var.lambda_settings.tracing ? [{
        Sid      = "WriteXRayTraces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
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
  name   = "${var.function_name}-permissions"
  role   = aws_iam_role.this.id
  policy = local.policy
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
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this.arn
  handler       = var.handler
  runtime       = var.lambda_settings.runtime
  timeout       = var.timeout
  memory_size   = var.memory_size
  # A local file is read and sent with each CreateFunction; the AWS provider holds a lock for
  # the whole create (its read, the call and a wait of at least 5 s for the Active state), so
  # the functions are created one at a time. Code in S3 has no lock: they are created together.
  filename          = local.package_s3 == null ? var.lambda_settings.package_path : null
  s3_bucket         = try(local.package_s3.bucket, null)
  s3_key            = try(local.package_s3.key, null)
  s3_object_version = try(local.package_s3.object_version, null)
  source_code_hash  = filebase64sha256(var.lambda_settings.package_path)
  tags              = var.tags

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
