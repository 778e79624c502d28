# ---------------------------------------------------------------------------------------------
# Naming and tags
# ---------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every resource name, so that several deployments coexist in one account and region."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 2-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "tags" {
  description = "Tags of every resource this module creates."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Child workflows and notifications
# ---------------------------------------------------------------------------------------------

variable "tuner_state_machine_arn" {
  description = "ARN of the tuner state machine the workflow runs first."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$", var.tuner_state_machine_arn))
    error_message = "The tuner_state_machine_arn must be a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)."
  }
}

variable "deployer_state_machine_arn" {
  description = "ARN of the deployer state machine the workflow runs with the tuner's model."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$", var.deployer_state_machine_arn))
    error_message = "The deployer_state_machine_arn must be a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)."
  }
}

variable "sns_topic_arn" {
  description = "ARN of the SNS topic that receives failure notifications."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.sns_topic_arn))
    error_message = "The sns_topic_arn must be an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)."
  }
}

variable "sns_kms_key_arn" {
  description = "ARN of the customer managed KMS key that encrypts the SNS topic, or null when the topic is unencrypted or uses the AWS managed key (publishing then needs no KMS permission)."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Logging and tracing
# ---------------------------------------------------------------------------------------------

variable "log_level" {
  description = "What the state machine logs to CloudWatch Logs: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "The log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "log_include_execution_data" {
  description = "Include execution input, output and state data in the state machine's logs."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the state machine's log group, in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log group, or null for CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "enable_xray_tracing" {
  description = "Trace the state machine with AWS X-Ray."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Failure reports
# ---------------------------------------------------------------------------------------------

variable "describe_failure_function_arn" {
  description = "ARN of the Lambda function that turns a caught error into a readable error name, cause and alert text (handler tuning_workflow.handlers.describe_failure)."
  type        = string
}

variable "lambda_log_groups" {
  description = "Where the alert text tells operators to find the Lambda functions' logs (a log group name or pattern)."
  type        = string
}
