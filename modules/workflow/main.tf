locals {
  # The root module reads the partition, account and region once and hands them on.
  partition  = var.aws_context.partition
  account_id = var.aws_context.account_id
  region     = var.aws_context.region

  state_machine_name = "${var.name_prefix}-workflow"

  # Executions of a state machine have ARNs of the form
  # arn:<partition>:states:<region>:<account>:execution:<state machine name>:<execution name>.
  child_execution_arns = [
    for arn in [var.tuner_state_machine_arn, var.deployer_state_machine_arn] :
    "${replace(arn, ":stateMachine:", ":execution:")}:*"
  ]
}

module "state_machine" {
  source = "../state-machine"

  aws_context      = var.aws_context
  name             = local.state_machine_name
  role_description = "Runs the ${local.state_machine_name} state machine: the tuner, then the deployer."
  logging          = var.logging
  xray_tracing     = var.xray_tracing
  tags             = var.tags

  definition = templatefile(var.definition_template, {
    tuner_state_machine_arn    = var.tuner_state_machine_arn
    deployer_state_machine_arn = var.deployer_state_machine_arn
    sns_topic_arn              = var.sns_topic_arn
    state_machine_name         = local.state_machine_name
    failure_subject            = "Model tuning and deployment failed (${local.state_machine_name})"
    describe_failure_arn       = var.describe_failure_function_arn
    lambda_log_groups          = var.lambda_log_groups
  })

  policy_statements = concat(
    [
      {
        sid       = "InvokeOwnFunctions"
        actions   = ["lambda:InvokeFunction"]
        resources = [var.describe_failure_function_arn]
      },
      {
        sid       = "StartChildWorkflows"
        actions   = ["states:StartExecution"]
        resources = [var.tuner_state_machine_arn, var.deployer_state_machine_arn]
      },
      {
        # The .sync:2 integration follows the child execution and stops it when the parent
        # stops.
        sid       = "FollowChildExecutions"
        actions   = ["states:DescribeExecution", "states:StopExecution"]
        resources = local.child_execution_arns
      },
      {
        # The managed rule through which Step Functions learns that a child execution ended.
        sid       = "ManageChildExecutionEventsRule"
        actions   = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
        resources = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]
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
