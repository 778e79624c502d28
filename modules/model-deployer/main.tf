data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  # The region data source's id is the region name (its `name` attribute is deprecated in
  # provider 6).
  region = data.aws_region.current.id

  state_machine_name = "${var.name_prefix}-deployer"
  sagemaker_arn_stem = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"

  # SageMaker ARNs carry lowercased names. A run names its endpoint config
  # <endpointName>-<runId> (one "?" per hex digit of the run id): the configs this module
  # creates and deploys. The live config an update replaces may predate the module (the
  # replaced stack named them <endpointName>-<timestamp>), so reads take any config of the
  # endpoint's name.
  endpoint_name        = var.hosting.endpoint_name
  endpoint_arn         = "${local.sagemaker_arn_stem}:endpoint/${lower(local.endpoint_name)}"
  endpoint_config_arn  = "${local.sagemaker_arn_stem}:endpoint-config/${lower(local.endpoint_name)}-${var.hosting.run_id_wildcard}"
  endpoint_configs_arn = "${local.sagemaker_arn_stem}:endpoint-config/${lower(local.endpoint_name)}-*"

  # Application Auto Scaling identifies scalable targets by generated IDs; its condition keys
  # keep the calls to SageMaker variants' instance counts.
  scaling_conditions = [
    {
      test     = "StringEquals"
      variable = "application-autoscaling:service-namespace"
      values   = ["sagemaker"]
    },
    {
      test     = "StringEquals"
      variable = "application-autoscaling:scalable-dimension"
      values   = ["sagemaker:variant:DesiredInstanceCount"]
    },
  ]

  # Alarms the endpoint's target tracking policy creates, and the alarms a blue/green update
  # watches for automatic rollback.
  scaling_alarms_arn = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:TargetTracking-endpoint/${local.endpoint_name}/variant/*"
  rollback_alarm_arns = [
    for alarm in var.hosting.rollback_alarm_names :
    "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${alarm}"
  ]

  # What the plan Lambda needs besides the parameters (docs/architecture.md).
  deployment = {
    name             = var.name_prefix # the owner tag of the endpoints it creates or adopts
    tags             = var.tags
    endpointKmsKeyId = var.kms_key_arns.endpoint
  }

  endpoint_kms_statements = var.kms_key_arns.endpoint == null ? [] : [
    {
      # SageMaker creates a grant on the key for the endpoint's instances.
      sid       = "UseEndpointKey"
      actions   = ["kms:CreateGrant", "kms:DescribeKey"]
      resources = [var.kms_key_arns.endpoint]
    },
  ]
}

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

module "plan_deployment" {
  source = "../lambda-function"

  function_name   = "${var.name_prefix}-plan-deployment"
  description     = "Plans an endpoint deployment: reads the live endpoint, its config and its scaling."
  handler         = "tuning_workflow.handlers.plan_deployment"
  lambda_settings = var.lambda_settings
  logging         = var.logging
  tags            = var.tags

  policy_statements = [
    {
      sid       = "DescribeEndpoint"
      actions   = ["sagemaker:DescribeEndpoint"]
      resources = [local.endpoint_arn]
    },
    {
      # The endpoint's owner tag: another deployment's endpoint is refused, one without the tag
      # adopted.
      sid       = "ReadEndpointOwner"
      actions   = ["sagemaker:ListTags"]
      resources = [local.endpoint_arn]
    },
    {
      # The live config, whose instance type decides whether scaling is deregistered first.
      sid       = "DescribeLiveEndpointConfig"
      actions   = ["sagemaker:DescribeEndpointConfig"]
      resources = [local.endpoint_configs_arn]
    },
    {
      # Application Auto Scaling's Describe APIs have no resource-level permissions.
      sid       = "DescribeScaling"
      actions   = ["application-autoscaling:DescribeScalableTargets"]
      resources = ["*"]
    },
  ]
}

module "start_endpoint_deployment" {
  source = "../lambda-function"

  function_name   = "${var.name_prefix}-start-endpoint-deployment"
  description     = "Creates the endpoint, or updates it in place with the configured deployment policy."
  handler         = "tuning_workflow.handlers.start_endpoint_deployment"
  timeout         = 300
  lambda_settings = var.lambda_settings
  logging         = var.logging
  tags            = var.tags

  policy_statements = concat(
    [
      {
        # Creating or updating an endpoint is authorised on the endpoint and on the config it
        # deploys (this run's).
        sid       = "DeployEndpoint"
        actions   = ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"]
        resources = [local.endpoint_arn, local.endpoint_config_arn]
      },
      {
        # A Failed endpoint can only be deleted; the next plan creates it anew.
        sid       = "DeleteFailedEndpoint"
        actions   = ["sagemaker:DeleteEndpoint"]
        resources = [local.endpoint_arn]
      },
      {
        # CreateEndpoint carries Tags (authorised as AddTags on the endpoint); a retried call
        # describes the endpoint to recognise its own deployment.
        sid       = "TagAndDescribeEndpoint"
        actions   = ["sagemaker:AddTags", "sagemaker:DescribeEndpoint"]
        resources = [local.endpoint_arn]
      },
    ],
    length(local.rollback_alarm_arns) == 0 ? [] : [
      {
        sid       = "ReadRollbackAlarms"
        actions   = ["cloudwatch:DescribeAlarms"]
        resources = local.rollback_alarm_arns
      },
    ],
    local.endpoint_kms_statements,
  )
}

module "check_endpoint" {
  source = "../lambda-function"

  function_name   = "${var.name_prefix}-check-endpoint"
  description     = "Reads the endpoint's status while the deployer waits for it."
  handler         = "tuning_workflow.handlers.check_endpoint"
  lambda_settings = var.lambda_settings
  logging         = var.logging
  tags            = var.tags

  policy_statements = [
    {
      sid       = "DescribeEndpoint"
      actions   = ["sagemaker:DescribeEndpoint"]
      resources = [local.endpoint_arn]
    },
  ]
}

# ---------------------------------------------------------------------------------------------
# State machine
# ---------------------------------------------------------------------------------------------

module "state_machine" {
  source = "../state-machine"

  name             = local.state_machine_name
  role_description = "Runs the ${local.state_machine_name} state machine: endpoint config, endpoint, auto scaling."
  logging          = var.logging
  xray_tracing     = var.lambda_settings.tracing
  tags             = var.tags

  definition = templatefile(var.definition_template, {
    plan_deployment_arn           = module.plan_deployment.function_arn
    start_endpoint_deployment_arn = module.start_endpoint_deployment.function_arn
    check_endpoint_arn            = module.check_endpoint.function_arn
    sns_topic_arn                 = var.sns_topic_arn
    endpoint_kms_key_arn          = var.kms_key_arns.endpoint == null ? "" : var.kms_key_arns.endpoint
    state_machine_name            = local.state_machine_name
    failure_subject               = "Endpoint deployment failed (${local.state_machine_name})"
    ml_parameters                 = var.hosting.ml_parameters_json
    deployment                    = jsonencode(local.deployment)
    describe_failure_arn          = var.describe_failure_function_arn
    lambda_log_groups             = var.lambda_log_groups
    sagemaker_retry_attempts      = var.sagemaker_retry_schedule.attempts
    throttle_retry_delays         = join(", ", var.sagemaker_retry_schedule.throttle_delays)
    quota_retry_delays            = join(", ", var.sagemaker_retry_schedule.quota_delays)
    quota_retry_jitter            = var.sagemaker_retry_schedule.quota_jitter
  })

  policy_statements = concat(
    [
      {
        sid     = "InvokeOwnFunctions"
        actions = ["lambda:InvokeFunction"]
        resources = [
          module.plan_deployment.function_arn,
          module.start_endpoint_deployment.function_arn,
          module.check_endpoint.function_arn,
          var.describe_failure_function_arn,
        ]
      },
      {
        sid       = "CreateEndpointConfigs"
        actions   = ["sagemaker:AddTags", "sagemaker:CreateEndpointConfig"]
        resources = [local.endpoint_config_arn]
      },
      {
        # Application Auto Scaling checks that the caller may read and resize the variant it
        # registers (SageMaker's auto scaling prerequisites).
        sid       = "ScaleEndpointVariants"
        actions   = ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"]
        resources = [local.endpoint_arn]
      },
      {
        # After a failed update, the restored registration is on a variant of the older config.
        sid       = "ReadEndpointConfigsForScaling"
        actions   = ["sagemaker:DescribeEndpointConfig"]
        resources = [local.endpoint_configs_arn]
      },
      {
        # Scalable targets are identified by a generated ID, not by the endpoint's name, so
        # these APIs cannot be scoped to this deployment's endpoint; the conditions keep them
        # to SageMaker variants' instance counts.
        sid = "RegisterScaling"
        actions = [
          "application-autoscaling:DeregisterScalableTarget",
          "application-autoscaling:PutScalingPolicy",
          "application-autoscaling:RegisterScalableTarget",
        ]
        resources  = ["*"]
        conditions = local.scaling_conditions
      },
      {
        # The alarms that a target tracking policy creates and deregistration deletes.
        sid       = "ManageTargetTrackingAlarms"
        actions   = ["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm"]
        resources = [local.scaling_alarms_arn]
      },
      {
        # The first registration of a SageMaker variant creates Application Auto Scaling's
        # service-linked role.
        sid       = "CreateScalingServiceLinkedRole"
        actions   = ["iam:CreateServiceLinkedRole"]
        resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"]
        conditions = [
          {
            test     = "StringEquals"
            variable = "iam:AWSServiceName"
            values   = ["sagemaker.application-autoscaling.amazonaws.com"]
          },
        ]
      },
      {
        sid       = "NotifyFailures"
        actions   = ["sns:Publish"]
        resources = [var.sns_topic_arn]
      },
    ],
    var.kms_key_arns.sns == null ? [] : [
      {
        sid       = "EncryptNotifications"
        actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
        resources = [var.kms_key_arns.sns]
      },
    ],
    local.endpoint_kms_statements,
  )
}
