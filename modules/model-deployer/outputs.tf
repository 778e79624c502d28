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
  description = "ARNs of the deployer's Lambda functions, by handler: plan_deployment, start_endpoint_deployment, check_endpoint."
  value = {
    plan_deployment           = module.plan_deployment.function_arn
    start_endpoint_deployment = module.start_endpoint_deployment.function_arn
    check_endpoint            = module.check_endpoint.function_arn
  }
}

output "lambda_role_arns" {
  description = "ARNs of the deployer's Lambda functions' IAM roles, by handler."
  value = {
    plan_deployment           = module.plan_deployment.role_arn
    start_endpoint_deployment = module.start_endpoint_deployment.role_arn
    check_endpoint            = module.check_endpoint.role_arn
  }
}

output "log_group_names" {
  description = "CloudWatch Logs log groups of the deployer: the state machine's and each Lambda function's."
  value = {
    state_machine             = module.state_machine.log_group_name
    plan_deployment           = module.plan_deployment.log_group_name
    start_endpoint_deployment = module.start_endpoint_deployment.log_group_name
    check_endpoint            = module.check_endpoint.log_group_name
  }
}
