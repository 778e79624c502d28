output "parameter_store_path" {
  description = "Parameter Store path under which the parameters are published."
  value       = local.parameter_store_path
}

output "parameter_names" {
  description = "Full names of the published SSM parameters, by key path (for example \"hyperparameters\" => \"/<name_prefix>/hyperparameters\", or with one parameter per leaf \"model/hosting/instanceType\" => \"/<name_prefix>/model/hosting/instanceType\")."
  value       = { for key, parameter in aws_ssm_parameter.this : key => parameter.name }
}

output "parameter_tiers" {
  description = "Tier of each published SSM parameter, by key path: Standard up to 4096 bytes, Advanced above."
  value       = { for key, parameter in aws_ssm_parameter.this : key => parameter.tier }
}

output "manifest_trigger_lambda_arn" {
  description = "ARN of the Lambda function that starts the workflow from an uploaded manifest (null when the trigger is off). With manage_bucket_notification = false, add it to the bucket's notification configuration yourself (events s3:ObjectCreated:*, prefix manifest_prefix, suffix .json)."
  value       = var.enable_manifest_trigger ? module.manifest_trigger[0].function_arn : null
}

output "manifest_trigger_role_arn" {
  description = "ARN of the trigger function's IAM role (null when the trigger is off)."
  value       = var.enable_manifest_trigger ? module.manifest_trigger[0].role_arn : null
}

output "manifest_trigger_log_group_name" {
  description = "CloudWatch Logs log group of the trigger function (null when the trigger is off)."
  value       = var.enable_manifest_trigger ? module.manifest_trigger[0].log_group_name : null
}

output "manifest_trigger_failure_queue_url" {
  description = "URL of the SQS queue that keeps, for 14 days, the invocation record of every trigger invocation that failed after Lambda's retries (null when the trigger is off)."
  value       = var.enable_manifest_trigger ? local.failure_queue_url : null
  depends_on  = [aws_sqs_queue.manifest_trigger_failures]
}

output "manifest_trigger_failure_queue_arn" {
  description = "ARN of the trigger's failure queue (null when the trigger is off)."
  value       = var.enable_manifest_trigger ? local.failure_queue_arn : null
  depends_on  = [aws_sqs_queue.manifest_trigger_failures]
}
