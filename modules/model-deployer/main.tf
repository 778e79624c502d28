locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

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

  # The lifecycle's resources: the run models that retention deletes, the best training jobs
  # the registry reads, the model package group, and the Parameter Store path where a run that
  # waits for a manual approval keeps its task token.
  model_arn               = "${local.sagemaker_arn_stem}:model/${lower(var.hosting.model_name)}-${var.hosting.run_id_wildcard}"
  training_job_arn        = "${local.sagemaker_arn_stem}:training-job/${lower(var.hosting.tuning_job_name)}-${var.hosting.run_id_wildcard}-*"
  registry                = var.hosting.model_registry
  manual_approval         = try(local.registry.approval == "manual", false)
  model_package_group_arn = local.registry == null ? null : "${local.sagemaker_arn_stem}:model-package-group/${lower(local.registry.group_name)}"
  model_packages_arn      = local.registry == null ? null : "${local.sagemaker_arn_stem}:model-package/${lower(local.registry.group_name)}/*"
  approval_parameter_path = "/sagemaker-tuner-deployer/${var.name_prefix}/pending-approvals"
  approval_parameters_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.approval_parameter_path}/*"
  # The runs under way, whose models and configs retention keeps: the workflow's (named by the
  # workflow module, <name_prefix>-workflow) and this deployer's own.
  run_state_machine_arns = [
    "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name_prefix}-workflow",
    "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine_name}",
  ]

  # What the plan Lambda needs besides the parameters (docs/architecture.md).
  deployment = {
    name                  = var.name_prefix # the owner tag of the endpoints it creates or adopts
    tags                  = var.tags
    endpointKmsKeyId      = var.kms_key_arns.endpoint
    approvalParameterPath = local.approval_parameter_path
    runStateMachineArns   = local.run_state_machine_arns
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

locals {
  # The functions by handler (tuning_workflow.handlers.<key>), each named <name_prefix>-<key>
  # with dashes and given its own role.
  functions = merge(
    {
      plan_deployment = {
        description = "Plans an endpoint deployment: reads the live endpoint, its config and its scaling."
        timeout     = 60
        policy_statements = [
          {
            sid       = "DescribeEndpoint"
            actions   = ["sagemaker:DescribeEndpoint"]
            resources = [local.endpoint_arn]
          },
          {
            # The endpoint's owner tag: another deployment's endpoint is refused, one without
            # the tag adopted.
            sid       = "ReadEndpointOwner"
            actions   = ["sagemaker:ListTags"]
            resources = [local.endpoint_arn]
          },
          {
            # The live config, whose instance type decides whether scaling is deregistered
            # first, and whose tags record the live model's objective (promotion) and owner
            # (rollback).
            sid       = "DescribeLiveEndpointConfig"
            actions   = ["sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"]
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

      start_endpoint_deployment = {
        description = "Creates the endpoint, or updates it in place with the configured deployment policy."
        timeout     = 300
        policy_statements = concat(
          [
            {
              # Creating or updating an endpoint is authorised on the endpoint and on the config
              # it deploys (this run's).
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
              # CreateEndpoint carries Tags (authorised as AddTags on the endpoint); a retried
              # call describes the endpoint to recognise its own deployment.
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

      check_endpoint = {
        description = "Reads the endpoint's status while the deployer waits for it."
        timeout     = 60
        policy_statements = [
          {
            sid       = "DescribeEndpoint"
            actions   = ["sagemaker:DescribeEndpoint"]
            resources = [local.endpoint_arn]
          },
        ]
      }

      apply_retention = {
        description = "Deletes this deployment's endpoint configs and models beyond the newest keepModels."
        timeout     = 300
        policy_statements = [
          {
            # SageMaker's List APIs have no resource-level permissions; the function keeps what
            # they return to this deployment's names and owner tag.
            sid       = "ListModelsAndConfigs"
            actions   = ["sagemaker:ListEndpointConfigs", "sagemaker:ListModels"]
            resources = ["*"]
          },
          {
            # The live config, and the owner tag: retention deletes nothing on another's
            # endpoint.
            sid       = "ReadLiveEndpoint"
            actions   = ["sagemaker:DescribeEndpoint", "sagemaker:ListTags"]
            resources = [local.endpoint_arn]
          },
          {
            # Owner tags, the live config's rollback target and the models the kept configs
            # serve.
            sid       = "ReadConfigsAndModels"
            actions   = ["sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"]
            resources = [local.endpoint_configs_arn, local.model_arn]
          },
          {
            # The runs under way keep their models and configs.
            sid       = "ListRunsUnderWay"
            actions   = ["states:ListExecutions"]
            resources = local.run_state_machine_arns
          },
          {
            # Only run-named configs and models (<base>-<run id>).
            sid       = "DeleteOldConfigsAndModels"
            actions   = ["sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"]
            resources = [local.endpoint_config_arn, local.model_arn]
          },
        ]
      }

      # Exists without a registry too (the state machine names it; no run calls it then), with
      # no permission beyond its log group.
      register_model = {
        description = "Registers a run's best model as a version of the model package group."
        timeout     = 60
        policy_statements = local.registry == null ? [] : concat(
          [
            {
              # The container and artifacts of the run's model, the tuned hyperparameters of the
              # best training job.
              sid       = "ReadModelAndTrainingJob"
              actions   = ["sagemaker:DescribeModel", "sagemaker:DescribeTrainingJob"]
              resources = [local.model_arn, local.training_job_arn]
            },
            {
              # CreateModelPackage carries Tags (authorised as AddTags on the version).
              sid = "RegisterVersions"
              # A retried registration under manual approval updates its version's token
              # parameter.
              actions   = ["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"]
              resources = [local.model_package_group_arn, local.model_packages_arn]
            },
            {
              # A retried registration finds its own version; ListModelPackages has no
              # resource-level permissions.
              sid       = "ListVersions"
              actions   = ["sagemaker:ListModelPackages"]
              resources = ["*"]
            },
          ],
          local.manual_approval ? [
            {
              sid       = "KeepTaskTokens"
              actions   = ["ssm:PutParameter"]
              resources = [local.approval_parameters_arn]
            },
          ] : [],
        )
      }
    },
    # Resumes a run that waits for a manual approval (the EventBridge rule below invokes it).
    !local.manual_approval ? {} : {
      approval_callback = {
        description = "Resumes the run that waits for a model package version's approval decision."
        timeout     = 60
        policy_statements = [
          {
            sid       = "ReadVersions"
            actions   = ["sagemaker:DescribeModelPackage"]
            resources = [local.model_packages_arn]
          },
          {
            sid       = "TakeTaskTokens"
            actions   = ["ssm:DeleteParameter", "ssm:GetParameter"]
            resources = [local.approval_parameters_arn]
          },
          {
            # Task tokens of service integrations (.waitForTaskToken) cannot be scoped by IAM:
            # the resource-level permission of SendTask* applies to activities only. The token
            # itself names the waiting task.
            sid       = "ResumeRuns"
            actions   = ["states:SendTaskFailure", "states:SendTaskSuccess"]
            resources = ["*"]
          },
        ]
      }
    },
  )
}

# One module block for every function: a plan evaluates a module block once however many
# instances it has, where one block per function made each plan pay for every block.
module "functions" {
  source   = "../lambda-function"
  for_each = local.functions

  aws_context       = var.aws_context
  function_name     = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description       = each.value.description
  handler           = "tuning_workflow.handlers.${each.key}"
  timeout           = each.value.timeout
  lambda_settings   = var.lambda_settings
  logging           = var.logging
  tags              = var.tags
  policy_statements = each.value.policy_statements
}

# Earlier versions declared one module block per function: their state moves, nothing is
# replaced.
moved {
  from = module.plan_deployment
  to   = module.functions["plan_deployment"]
}

moved {
  from = module.start_endpoint_deployment
  to   = module.functions["start_endpoint_deployment"]
}

moved {
  from = module.check_endpoint
  to   = module.functions["check_endpoint"]
}

moved {
  from = module.apply_retention
  to   = module.functions["apply_retention"]
}

moved {
  from = module.register_model
  to   = module.functions["register_model"]
}

moved {
  from = module.approval_callback[0]
  to   = module.functions["approval_callback"]
}

# ---------------------------------------------------------------------------------------------
# Model registry
# ---------------------------------------------------------------------------------------------

resource "aws_sagemaker_model_package_group" "this" {
  count = try(local.registry.create_group, false) ? 1 : 0

  model_package_group_name        = local.registry.group_name
  model_package_group_description = "Models tuned by ${var.name_prefix}: one version per run."
  tags                            = var.tags
}

# SageMaker emits "SageMaker Model Package State Change" when a version's approval status
# changes (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html):
# the callback resumes the run that waits for it.
resource "aws_cloudwatch_event_rule" "approval" {
  count = local.manual_approval ? 1 : 0

  name        = "${var.name_prefix}-model-approval"
  description = "Approval decisions on the versions of model package group ${local.registry.group_name}."
  event_pattern = jsonencode({
    source      = ["aws.sagemaker"]
    detail-type = ["SageMaker Model Package State Change"]
    detail = {
      ModelPackageGroupName = [local.registry.group_name]
      ModelApprovalStatus   = ["Approved", "Rejected"]
    }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "approval" {
  count = local.manual_approval ? 1 : 0

  rule = aws_cloudwatch_event_rule.approval[0].name
  arn  = module.functions["approval_callback"].function_arn
}

resource "aws_lambda_permission" "approval" {
  count = local.manual_approval ? 1 : 0

  statement_id  = "AllowModelApprovalEvents"
  action        = "lambda:InvokeFunction"
  function_name = module.functions["approval_callback"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.approval[0].arn
}

# ---------------------------------------------------------------------------------------------
# State machine
# ---------------------------------------------------------------------------------------------

module "state_machine" {
  source = "../state-machine"

  aws_context      = var.aws_context
  name             = local.state_machine_name
  role_description = "Runs the ${local.state_machine_name} state machine: endpoint config, endpoint, auto scaling."
  logging          = var.logging
  xray_tracing     = var.lambda_settings.tracing
  tags             = var.tags

  definition = templatefile(var.definition_template, {
    plan_deployment_arn           = module.functions["plan_deployment"].function_arn
    start_endpoint_deployment_arn = module.functions["start_endpoint_deployment"].function_arn
    check_endpoint_arn            = module.functions["check_endpoint"].function_arn
    sns_topic_arn                 = var.sns_topic_arn
    endpoint_kms_key_arn          = var.kms_key_arns.endpoint == null ? "" : var.kms_key_arns.endpoint
    state_machine_name            = local.state_machine_name
    failure_subject               = "Endpoint deployment failed (${local.state_machine_name})"
    outcome_subject               = "Endpoint deployment kept the live model (${local.state_machine_name})"
    register_model_arn            = module.functions["register_model"].function_arn
    apply_retention_arn           = module.functions["apply_retention"].function_arn
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
          module.functions["plan_deployment"].function_arn,
          module.functions["start_endpoint_deployment"].function_arn,
          module.functions["check_endpoint"].function_arn,
          module.functions["apply_retention"].function_arn,
          module.functions["register_model"].function_arn,
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
