output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function, built from its name so that it is known at plan time; available once the function exists."
  value       = local.function_arn
  depends_on  = [aws_lambda_function.this]
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = local.role_arn
  depends_on  = [aws_iam_role.this]
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "log_group_name" {
  description = "Name of the function's CloudWatch Logs log group."
  value       = aws_cloudwatch_log_group.this.name
}
