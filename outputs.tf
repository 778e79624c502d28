# ---------------------------------------------------------------------------------------------
# State machines
# ---------------------------------------------------------------------------------------------

output "state_machine_arn" {
  description = "ARN of the workflow state machine (tuner, then deployer): start runs here, for example with aws stepfunctions start-execution --input file://examples/execution-input.json."
  value       = module.workflow.state_machine_arn
}

output "tuner_state_machine_arn" {
  description = "ARN of the tuner state machine (validate, tune, best job, quality gate, model); can be started on its own."
  value       = module.tuner.state_machine_arn
}

output "deployer_state_machine_arn" {
  description = "ARN of the deployer state machine (endpoint config, create or update endpoint, wait, auto scaling); can be started on its own with {\"modelName\": \"...\"}, or with {\"endpointConfigName\": \"...\"} to roll back to an earlier config (smtune rollback)."
  value       = module.deployer.state_machine_arn
}

output "state_machine_role_arns" {
  description = "ARNs of the state machines' IAM roles: workflow, tuner, deployer."
  value = {
    workflow = module.workflow.state_machine_role_arn
    tuner    = module.tuner.state_machine_role_arn
    deployer = module.deployer.state_machine_role_arn
  }
}

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

output "lambda_function_arns" {
  description = "ARNs of the Lambda functions, by handler (prepare_tuning_run, find_best_training_job, plan_deployment, start_endpoint_deployment, check_endpoint, and start_from_manifest when the manifest trigger is on)."
  value = merge(
    module.tuner.lambda_function_arns,
    module.deployer.lambda_function_arns,
    var.enable_manifest_trigger ? { start_from_manifest = module.parameters.manifest_trigger_lambda_arn } : {},
  )
}

output "lambda_package_path" {
  description = "The Lambda package the functions run: lambda_package_path, or the bundled one. Upload this file for lambda_package_s3."
  value       = local.lambda_package_path
}

output "lambda_role_arns" {
  description = "ARNs of the Lambda functions' IAM roles, by handler."
  value = merge(
    module.tuner.lambda_role_arns,
    module.deployer.lambda_role_arns,
    var.enable_manifest_trigger ? { start_from_manifest = module.parameters.manifest_trigger_role_arn } : {},
  )
}

output "manifest_trigger_lambda_arn" {
  description = "ARN of the function that starts a run when a manifest is uploaded (null when enable_manifest_trigger is false). Without manage_bucket_notification, add it to the bucket's notification configuration yourself."
  value       = module.parameters.manifest_trigger_lambda_arn
}

output "manifest_trigger_failure_queue_url" {
  description = "URL of the SQS queue where an upload that could not start a run ends up: Lambda's invocation record (requestPayload is the S3 event, with the manifest's bucket and key), kept 14 days (null when enable_manifest_trigger is false)."
  value       = module.parameters.manifest_trigger_failure_queue_url
}

output "manifest_trigger_failure_queue_arn" {
  description = "ARN of the manifest trigger's failure queue, for alarms or subscriptions (null when enable_manifest_trigger is false)."
  value       = module.parameters.manifest_trigger_failure_queue_arn
}

# ---------------------------------------------------------------------------------------------
# Parameters, notifications, SageMaker
# ---------------------------------------------------------------------------------------------

output "ssm_parameter_path" {
  description = "Parameter Store path under which the parameters are published (a copy: the workflows use the values rendered at apply)."
  value       = module.parameters.parameter_store_path
}

output "ssm_parameter_names" {
  description = "Full names of the published SSM parameters, by key path: \"ml-parameters\" and \"hyperparameters\" (parameter_store_layout \"document\"), or one per leaf such as \"model/hosting/instanceType\" (\"leaves\")."
  value       = module.parameters.parameter_names
}

output "sns_topic_arn" {
  description = "ARN of the SNS topic that receives a readable message for every failed run."
  value       = local.sns_topic_arn
  depends_on  = [aws_sns_topic.notifications]
}

output "sagemaker_execution_role_arn" {
  description = "ARN of the role SageMaker assumes for the training jobs and the hosted model."
  value       = local.sagemaker_execution_role_arn
  depends_on  = [aws_iam_role.sagemaker_execution]
}

output "endpoint_name" {
  description = "Name of the SageMaker endpoint the workflow creates or updates (stable across runs)."
  value       = module.deployer.endpoint_name
}

output "tuning_job_name_prefix" {
  description = "Base name of the tuning jobs: each run names its job with this, a hyphen and a run id (hex digits derived from the execution ARN)."
  value       = local.tuning.tuning_job_name
}

output "log_group_names" {
  description = "CloudWatch Logs log groups, by component: the state machines' and the Lambda functions'."
  value = merge(
    { workflow = module.workflow.log_group_name },
    { for key, name in module.tuner.log_group_names : (key == "state_machine" ? "tuner" : key) => name },
    { for key, name in module.deployer.log_group_names : (key == "state_machine" ? "deployer" : key) => name },
    var.enable_manifest_trigger ? { start_from_manifest = module.parameters.manifest_trigger_log_group_name } : {},
  )
}

output "model_package_group_name" {
  description = "The model package group that runs register their models in (modelRegistry in ml-parameters.json); null without a registry. Approve or reject a waiting version with smtune approve / smtune reject."
  value       = module.deployer.model_package_group_name
}
