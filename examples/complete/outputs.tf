output "state_machine_arn" {
  description = "ARN of the workflow state machine: aws stepfunctions start-execution --state-machine-arn \"$(terraform output -raw state_machine_arn)\" --input file://../execution-input.json"
  value       = module.sagemaker_tuner.state_machine_arn
}

output "tuner_state_machine_arn" {
  description = "ARN of the tuner state machine."
  value       = module.sagemaker_tuner.tuner_state_machine_arn
}

output "deployer_state_machine_arn" {
  description = "ARN of the deployer state machine."
  value       = module.sagemaker_tuner.deployer_state_machine_arn
}

output "sns_topic_arn" {
  description = "SNS topic that receives failure notifications: subscribe to it."
  value       = module.sagemaker_tuner.sns_topic_arn
}

output "endpoint_name" {
  description = "Name of the endpoint the workflow creates or updates."
  value       = module.sagemaker_tuner.endpoint_name
}

output "ssm_parameter_path" {
  description = "Parameter Store path of the published parameters."
  value       = module.sagemaker_tuner.ssm_parameter_path
}

output "manifest_trigger_lambda_arn" {
  description = "Function that starts a run from an uploaded manifest (null when the trigger is off)."
  value       = module.sagemaker_tuner.manifest_trigger_lambda_arn
}

output "manifest_trigger_failure_queue_url" {
  description = "Queue of the uploads that could not start a run, as Lambda's invocation records (null when the trigger is off)."
  value       = module.sagemaker_tuner.manifest_trigger_failure_queue_url
}

output "model_package_group_name" {
  description = "The model package group that runs register their models in (null without modelRegistry in ml-parameters.json)."
  value       = module.sagemaker_tuner.model_package_group_name
}
