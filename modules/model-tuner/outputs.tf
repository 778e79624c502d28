output "state_machine_arn" {
  description = "ARN of the tuner state machine."
  value       = module.state_machine.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the tuner state machine."
  value       = module.state_machine.state_machine_name
}

output "state_machine_role_arn" {
  description = "ARN of the tuner state machine's IAM role."
  value       = module.state_machine.role_arn
}

output "lambda_function_arns" {
  description = "ARNs of the tuner's Lambda functions, by handler: prepare_tuning_run, find_best_training_job."
  value       = { for handler, function in module.functions : handler => function.function_arn }
}

output "lambda_role_arns" {
  description = "ARNs of the tuner's Lambda functions' IAM roles, by handler."
  value       = { for handler, function in module.functions : handler => function.role_arn }
}

output "log_group_names" {
  description = "CloudWatch Logs log groups of the tuner: the state machine's and each Lambda function's."
  value = merge(
    { state_machine = module.state_machine.log_group_name },
    { for handler, function in module.functions : handler => function.log_group_name },
  )
}
