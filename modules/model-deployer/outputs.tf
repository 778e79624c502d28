output "state_machine_arn" {
  description = "ARN of the deployer state machine."
  value       = module.state_machine.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the deployer state machine."
  value       = module.state_machine.state_machine_name
}

output "state_machine_role_arn" {
  description = "ARN of the deployer state machine's IAM role."
  value       = module.state_machine.role_arn
}

output "endpoint_name" {
  description = "Name of the endpoint the deployer creates or updates (stable across runs)."
  value       = local.endpoint_name
}

output "lambda_function_arns" {
  description = "ARNs of the deployer's Lambda functions, by handler: plan_deployment, start_endpoint_deployment, check_endpoint, register_model, apply_retention, and approval_callback with manual approval."
  value       = { for handler, function in module.functions : handler => function.function_arn }
}

output "lambda_role_arns" {
  description = "ARNs of the deployer's Lambda functions' IAM roles, by handler."
  value       = { for handler, function in module.functions : handler => function.role_arn }
}

output "log_group_names" {
  description = "CloudWatch Logs log groups of the deployer: the state machine's and each Lambda function's."
  value = merge(
    { state_machine = module.state_machine.log_group_name },
    { for handler, function in module.functions : handler => function.log_group_name },
  )
}

output "model_package_group_name" {
  description = "The model package group that runs register their models in (modelRegistry in ml-parameters.json); null without a registry."
  value       = try(local.registry.group_name, null)
}
