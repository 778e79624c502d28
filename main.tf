# ---------------------------------------------------------------------------------------------
# The root module: composes the parameter provider, the tuner, the deployer and the workflow
# that runs them. It owns the SNS topic (sns.tf) and the SageMaker execution role (iam.tf);
# the parameter files are read and checked in parameters.tf.
# ---------------------------------------------------------------------------------------------

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The region data source's id is the region name (its `name` attribute is deprecated in
  # provider 6).
  region = data.aws_region.current.id
  # Read once, here, for every component: each read is an API call (aws_caller_identity is an
  # STS call) of every plan.
  aws_context = {
    partition  = local.partition
    dns_suffix = data.aws_partition.current.dns_suffix
    account_id = local.account_id
    region     = local.region
  }

  # The seed's tag key, "Environment" (cost-allocation filters use it). Tag keys differ only in
  # case for some services and are the same key for others (IAM), so a caller's tag named
  # environment in any case gives way to it.
  tags = merge(
    { for key, value in var.tags : key => value if lower(key) != "environment" },
    { Environment = var.environment },
  )

  # Provider 3.39 cannot set a function's architecture (its default is x86_64), so Terraform
  # deploys the x86_64 package; lambda_package_path can point at another build.
  lambda_package_path = coalesce(var.lambda_package_path, "${path.module}/lambda_src/dist/lambda-x86_64.zip")

  # The waits of each retry of a refused SageMaker call, doubling up to the maximum (index =
  # attempt). Throttling waits a random time up to the delay (at least 2 s: Step Functions'
  # States.MathRandom needs a range).
  sagemaker_retry_schedule = {
    attempts = var.sagemaker_retry.max_attempts
    throttle_delays = [
      for attempt in range(max(var.sagemaker_retry.max_attempts, 1)) :
      floor(min(var.sagemaker_retry.throttle_max_seconds, var.sagemaker_retry.throttle_base_seconds * pow(2, attempt)))
    ]
    quota_delays = [
      for attempt in range(max(var.sagemaker_retry.max_attempts, 1)) :
      floor(min(var.sagemaker_retry.quota_max_seconds, var.sagemaker_retry.quota_base_seconds * pow(2, attempt)))
    ]
    quota_jitter = floor(var.sagemaker_retry.quota_base_seconds)
  }

  lambda_log_groups = "/aws/lambda/${var.name_prefix}-*"

  # The settings every component shares, validated once, here (variables.tf); the submodules
  # take them as they are.
  logging = {
    level                  = var.log_level
    include_execution_data = var.log_include_execution_data
    retention_days         = var.log_retention_days
    kms_key_arn            = var.kms_key_arns.logs
  }
  lambda_settings = {
    package_path = local.lambda_package_path
    package_s3   = var.lambda_package_s3
    runtime      = var.lambda_runtime
    tracing      = var.enable_xray_tracing
  }
  # The state machines' templates, in this repository.
  templates = "${path.module}/statemachine"
}

module "parameters" {
  source = "./modules/ml-parameter-provider"

  aws_context          = local.aws_context
  name_prefix          = var.name_prefix
  tags                 = local.tags
  parameter_store_path = var.parameter_store_path
  parameters           = local.published_parameters
  parameter_sources    = local.published_sources

  enable_manifest_trigger    = var.enable_manifest_trigger
  manage_bucket_notification = var.manage_bucket_notification
  manifest_bucket_name       = var.s3_bucket
  manifest_prefix            = var.manifest_prefix
  state_machine_arn          = module.workflow.state_machine_arn

  kms_key_arns    = var.kms_key_arns
  lambda_settings = local.lambda_settings
  logging         = local.logging

  # The checks in parameters.tf run first, so a bad file fails with their message.
  depends_on = [data.aws_partition.current]
}

# Every state machine's failure path: the caught error as a readable name, cause and alert text.
module "describe_failure" {
  source = "./modules/lambda-function"

  aws_context     = local.aws_context
  function_name   = "${var.name_prefix}-describe-failure"
  description     = "Turns a caught error into a readable error name, cause and alert text, escaped."
  handler         = "tuning_workflow.handlers.describe_failure"
  lambda_settings = local.lambda_settings
  logging         = local.logging
  tags            = local.tags
  # It reads only its event: no permissions beyond its own log group.

  depends_on = [data.aws_partition.current]
}

module "tuner" {
  source = "./modules/model-tuner"

  aws_context                   = local.aws_context
  name_prefix                   = var.name_prefix
  tags                          = local.tags
  tuning                        = local.tuning
  sagemaker_execution_role_arn  = local.sagemaker_execution_role_arn
  sns_topic_arn                 = local.sns_topic_arn
  data_bucket_names             = local.data_bucket_names
  describe_failure_function_arn = module.describe_failure.function_arn
  lambda_log_groups             = local.lambda_log_groups
  sagemaker_retry_schedule      = local.sagemaker_retry_schedule

  kms_key_arns        = var.kms_key_arns
  lambda_settings     = local.lambda_settings
  logging             = local.logging
  definition_template = "${local.templates}/tuner.asl.json"

  depends_on = [data.aws_partition.current]
}

module "deployer" {
  source = "./modules/model-deployer"

  aws_context                   = local.aws_context
  name_prefix                   = var.name_prefix
  tags                          = local.tags
  hosting                       = local.hosting
  sns_topic_arn                 = local.sns_topic_arn
  describe_failure_function_arn = module.describe_failure.function_arn
  lambda_log_groups             = local.lambda_log_groups
  sagemaker_retry_schedule      = local.sagemaker_retry_schedule

  kms_key_arns        = var.kms_key_arns
  lambda_settings     = local.lambda_settings
  logging             = local.logging
  definition_template = "${local.templates}/deployer.asl.json"

  depends_on = [data.aws_partition.current]
}

module "workflow" {
  source = "./modules/workflow"

  aws_context                = local.aws_context
  name_prefix                = var.name_prefix
  tags                       = local.tags
  tuner_state_machine_arn    = module.tuner.state_machine_arn
  deployer_state_machine_arn = module.deployer.state_machine_arn
  sns_topic_arn              = local.sns_topic_arn

  describe_failure_function_arn = module.describe_failure.function_arn
  lambda_log_groups             = local.lambda_log_groups
  kms_key_arns                  = var.kms_key_arns
  logging                       = local.logging
  xray_tracing                  = var.enable_xray_tracing
  definition_template           = "${local.templates}/parent.asl.json"
}
