locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

  state_machine_name  = "${var.name_prefix}-tuner"
  sagemaker_arn_stem  = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
  algorithm_arn       = var.tuning.algorithm_arn
  tuning_job_base     = lower(var.tuning.tuning_job_name)
  model_base          = lower(var.tuning.model_name)
  data_bucket_objects = [for b in var.data_bucket_names : "arn:${local.partition}:s3:::${b}/*"]

  # A run names its resources <base>-<runId>: one "?" per hex digit of the run id, so that
  # another deployment whose base name starts with this one ("<base>-other") stays out of reach.
  # SageMaker ARNs carry names lowercased. A tuning job names its training jobs
  # <tuning job>-<NNN>-<suffix>.
  run_id_wildcard  = var.tuning.run_id_wildcard
  tuning_job_arn   = "${local.sagemaker_arn_stem}:hyper-parameter-tuning-job/${local.tuning_job_base}-${local.run_id_wildcard}"
  training_job_arn = "${local.sagemaker_arn_stem}:training-job/${local.tuning_job_base}-${local.run_id_wildcard}-*"
  model_arn        = "${local.sagemaker_arn_stem}:model/${local.model_base}-${local.run_id_wildcard}"

  # What the prepare Lambda needs to build the tuning job request (docs/architecture.md).
  deployment = {
    name             = var.name_prefix # the owner tag of the models it creates
    sagemakerRoleArn = var.sagemaker_execution_role_arn
    tags             = var.tags
    volumeKmsKeyId   = var.kms_key_arns.training_volume
    outputKmsKeyId   = var.kms_key_arns.training_output
    dataBuckets      = var.data_bucket_names
  }
}

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

locals {
  # The functions by handler (tuning_workflow.handlers.<key>), each named <name_prefix>-<key>
  # with dashes and given its own role.
  functions = {
    prepare_tuning_run = {
      description = "Validates a tuning run's inputs, names the run and builds the tuning job request."
      policy_statements = length(local.data_bucket_objects) == 0 ? [] : [
        {
          sid       = "ReadManifests"
          actions   = ["s3:GetObject"]
          resources = local.data_bucket_objects
        },
      ]
    }

    find_best_training_job = {
      description = "Finds a tuning job's best training job, its model artifacts and inference image, and evaluates the quality gate."
      policy_statements = concat(
        [
          {
            sid       = "DescribeTuningJobs"
            actions   = ["sagemaker:DescribeHyperParameterTuningJob"]
            resources = [local.tuning_job_arn]
          },
          {
            sid       = "DescribeTrainingJobs"
            actions   = ["sagemaker:DescribeTrainingJob"]
            resources = [local.training_job_arn]
          },
        ],
        local.algorithm_arn == null ? [] : [
          {
            # Lowercased like every SageMaker ARN (the parameters may spell the name with
            # capitals).
            sid       = "DescribeAlgorithm"
            actions   = ["sagemaker:DescribeAlgorithm"]
            resources = [lower(local.algorithm_arn)]
          },
        ],
      )
    }
  }
}

# One module block for every function: a plan evaluates a module block once however many
# instances it has.
module "functions" {
  source   = "../lambda-function"
  for_each = local.functions

  aws_context       = var.aws_context
  function_name     = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  description       = each.value.description
  handler           = "tuning_workflow.handlers.${each.key}"
  lambda_settings   = var.lambda_settings
  logging           = var.logging
  tags              = var.tags
  policy_statements = each.value.policy_statements
}

# Earlier versions declared one module block per function: their state moves, nothing is
# replaced.
moved {
  from = module.prepare_tuning_run
  to   = module.functions["prepare_tuning_run"]
}

moved {
  from = module.find_best_training_job
  to   = module.functions["find_best_training_job"]
}

# ---------------------------------------------------------------------------------------------
# State machine
# ---------------------------------------------------------------------------------------------

module "state_machine" {
  source = "../state-machine"

  aws_context      = var.aws_context
  name             = local.state_machine_name
  role_description = "Runs the ${local.state_machine_name} state machine: tuning job, best model, quality gate."
  logging          = var.logging
  xray_tracing     = var.lambda_settings.tracing
  tags             = var.tags

  definition = templatefile(var.definition_template, {
    prepare_tuning_run_arn     = module.functions["prepare_tuning_run"].function_arn
    find_best_training_job_arn = module.functions["find_best_training_job"].function_arn
    sns_topic_arn              = var.sns_topic_arn
    sagemaker_role_arn         = var.sagemaker_execution_role_arn
    state_machine_name         = local.state_machine_name
    failure_subject            = "Model tuning failed (${local.state_machine_name})"
    ml_parameters              = var.tuning.ml_parameters_json
    hyperparameters            = var.tuning.hyperparameters_json
    deployment                 = jsonencode(local.deployment)
    has_warm_start             = var.tuning.has_warm_start
    has_model_vpc              = var.tuning.has_model_vpc
    describe_failure_arn       = var.describe_failure_function_arn
    lambda_log_groups          = var.lambda_log_groups
    sagemaker_retry_attempts   = var.sagemaker_retry_schedule.attempts
    throttle_retry_delays      = join(", ", var.sagemaker_retry_schedule.throttle_delays)
    quota_retry_delays         = join(", ", var.sagemaker_retry_schedule.quota_delays)
    quota_retry_jitter         = var.sagemaker_retry_schedule.quota_jitter
  })

  policy_statements = concat(
    [
      {
        sid     = "InvokeOwnFunctions"
        actions = ["lambda:InvokeFunction"]
        resources = [
          module.functions["prepare_tuning_run"].function_arn,
          module.functions["find_best_training_job"].function_arn,
          var.describe_failure_function_arn,
        ]
      },
      {
        # The .sync integration describes the job until it ends and stops it when the
        # execution stops. A request with Tags is authorised for AddTags too.
        sid = "RunTuningJobs"
        actions = [
          "sagemaker:AddTags",
          "sagemaker:CreateHyperParameterTuningJob",
          "sagemaker:DescribeHyperParameterTuningJob",
          "sagemaker:StopHyperParameterTuningJob",
        ]
        resources = [local.tuning_job_arn]
      },
      {
        # The .sync integration also reads tags; the policy Step Functions itself generates for
        # SageMaker .sync jobs allows sagemaker:ListTags on "*" (a read of tags only).
        sid       = "ReadTagsForSyncIntegration"
        actions   = ["sagemaker:ListTags"]
        resources = ["*"]
      },
      {
        sid       = "CreateModels"
        actions   = ["sagemaker:AddTags", "sagemaker:CreateModel"]
        resources = [local.model_arn]
      },
      {
        sid       = "PassSageMakerExecutionRole"
        actions   = ["iam:PassRole"]
        resources = [var.sagemaker_execution_role_arn]
        conditions = [
          {
            test     = "StringEquals"
            variable = "iam:PassedToService"
            values   = ["sagemaker.amazonaws.com"]
          },
        ]
      },
      {
        # The managed rule through which Step Functions learns that a tuning job ended.
        sid       = "ManageTuningJobEventsRule"
        actions   = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule"]
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
  )
}
