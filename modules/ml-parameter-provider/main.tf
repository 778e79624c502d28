locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

  # One parameter per document or per leaf of the parameter files, as the root module chose.
  parameters = var.parameters

  # Parameter Store limits values in bytes, Terraform counts characters: the UTF-8 size is read
  # from the base64 encoding (4 characters per 3 bytes, minus the padding).
  parameter_bytes = {
    for key, value in local.parameters : key => (
      length(base64encode(value)) / 4 * 3
      -(endswith(base64encode(value), "==") ? 2 : endswith(base64encode(value), "=") ? 1 : 0)
    )
  }

  standard_tier_max_bytes = 4096
  advanced_tier_max_bytes = 8192

  # Named after the deployment unless a path is given, so that deployments coexist.
  parameter_store_path = coalesce(var.parameter_store_path, "/${var.name_prefix}")
}

resource "aws_ssm_parameter" "this" {
  #checkov:skip=CKV2_AWS_34:A published copy of non-secret tuning configuration (names, instance types, ranges), readable by people and tools without a KMS key; secrets do not belong in these files.
  for_each = local.parameters

  name        = "${local.parameter_store_path}/${each.key}"
  description = "Published by ${var.name_prefix} from its parameter files. A copy: the workflow uses the values rendered at terraform apply."
  type        = "String"
  value       = each.value
  tier        = local.parameter_bytes[each.key] > local.standard_tier_max_bytes ? "Advanced" : "Standard"
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = local.parameter_bytes[each.key] <= local.advanced_tier_max_bytes
      error_message = "The value of ${local.parameter_store_path}/${each.key} (${lookup(var.parameter_sources, each.key, "from the parameter files; shorten it")}) is ${local.parameter_bytes[each.key]} bytes; Parameter Store holds at most ${local.advanced_tier_max_bytes} bytes (Advanced tier)."
    }

    precondition {
      condition     = can(regex("^[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)*$", each.key))
      error_message = "The key path \"${each.key}\" cannot name an SSM parameter: keys may use letters, digits, _ . - only."
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Manifest trigger: an upload of <prefix>*.json starts the workflow with {"manifestS3Uri": ...}.
# S3 invokes the function asynchronously; an invocation that still fails after Lambda's retries
# goes, as Lambda's invocation record (requestPayload = the S3 event: bucket and key), to the
# failure queue, where it stays 14 days.
# ---------------------------------------------------------------------------------------------

locals {
  failure_queue_name = "${var.name_prefix}-start-from-manifest-failures"
  # Built from the name, so that plans show the queue in the function's policy, its event
  # invoke config and the outputs. The URL is SQS's documented form
  # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html).
  failure_queue_arn = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.failure_queue_name}"
  failure_queue_url = "https://sqs.${local.region}.${var.aws_context.dns_suffix}/${local.account_id}/${local.failure_queue_name}"

  # Lambda sends the record with the function's role
  # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html); with a
  # customer managed key the role also needs the key
  # (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
  failure_queue_statements = concat(
    [
      {
        sid       = "SendFailedInvocationRecords"
        actions   = ["sqs:SendMessage"]
        resources = [local.failure_queue_arn]
      },
    ],
    var.kms_key_arns.sqs == null ? [] : [
      {
        sid       = "EncryptFailedInvocationRecords"
        actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
        resources = [var.kms_key_arns.sqs]
      },
    ],
  )
}

resource "aws_sqs_queue" "manifest_trigger_failures" {
  count = var.enable_manifest_trigger ? 1 : 0

  name                      = local.failure_queue_name
  message_retention_seconds = 1209600 # 14 days, the most SQS keeps a message
  # The AWS managed key alias/aws/sqs needs no key policy and no KMS permission for the sender.
  kms_master_key_id = coalesce(var.kms_key_arns.sqs, "alias/aws/sqs")
  tags              = var.tags
}

resource "aws_lambda_function_event_invoke_config" "manifest_trigger" {
  count = var.enable_manifest_trigger ? 1 : 0

  function_name                = module.manifest_trigger[0].function_name
  maximum_retry_attempts       = var.trigger_maximum_retry_attempts
  maximum_event_age_in_seconds = var.trigger_maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = local.failure_queue_arn
    }
  }

  depends_on = [aws_sqs_queue.manifest_trigger_failures]
}

module "manifest_trigger" {
  source = "../lambda-function"
  count  = var.enable_manifest_trigger ? 1 : 0

  aws_context     = var.aws_context
  function_name   = "${var.name_prefix}-start-from-manifest"
  description     = "Starts the ${var.name_prefix} workflow when a manifest is uploaded to s3://${coalesce(var.manifest_bucket_name, "-")}/${var.manifest_prefix}."
  handler         = "tuning_workflow.handlers.start_from_manifest"
  lambda_settings = var.lambda_settings
  logging         = var.logging
  tags            = var.tags

  environment_variables = {
    STATE_MACHINE_ARN = coalesce(var.state_machine_arn, "-")
    MANIFEST_PREFIX   = var.manifest_prefix
  }

  policy_statements = concat(
    [
      {
        sid       = "StartWorkflow"
        actions   = ["states:StartExecution"]
        resources = [coalesce(var.state_machine_arn, "-")]
      },
    ],
    local.failure_queue_statements,
  )
}

resource "aws_lambda_permission" "manifest_trigger" {
  count = var.enable_manifest_trigger ? 1 : 0

  statement_id   = "InvokeOnManifestUpload"
  action         = "lambda:InvokeFunction"
  function_name  = module.manifest_trigger[0].function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:${local.partition}:s3:::${coalesce(var.manifest_bucket_name, "-")}"
  source_account = local.account_id

  lifecycle {
    precondition {
      condition     = var.manifest_bucket_name != null && var.state_machine_arn != null
      error_message = "The manifest trigger needs manifest_bucket_name (the bucket that receives manifests) and state_machine_arn (the workflow it starts)."
    }
  }
}

resource "aws_s3_bucket_notification" "manifest_trigger" {
  count = var.enable_manifest_trigger && var.manage_bucket_notification ? 1 : 0

  bucket = var.manifest_bucket_name

  lambda_function {
    lambda_function_arn = module.manifest_trigger[0].function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.manifest_prefix
    filter_suffix       = ".json"
  }

  depends_on = [aws_lambda_permission.manifest_trigger]
}
