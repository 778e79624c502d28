output "state_machine_arn" {
  description = "ARN of the workflow state machine (tuner, then deployer)."
  value       = module.state_machine.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the workflow state machine."
  value       = module.state_machine.state_machine_name
}

output "state_machine_role_arn" {
  description = "ARN of the workflow state machine's IAM role."
  value       = module.state_machine.role_arn
}

output "log_group_name" {
  description = "CloudWatch Logs log group of the workflow state machine."
  value       = module.state_machine.log_group_name
}
