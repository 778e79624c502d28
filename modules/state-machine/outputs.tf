output "state_machine_arn" {
  description = "ARN of the state machine, built from its name so that it is known at plan time; available once the state machine exists."
  value       = local.state_machine_arn
  depends_on  = [aws_sfn_state_machine.this]
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = local.role_arn
  depends_on  = [aws_iam_role.this]
}

output "role_name" {
  description = "Name of the state machine's IAM role."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "Name of the state machine's CloudWatch Logs log group."
  value       = aws_cloudwatch_log_group.this.name
}
