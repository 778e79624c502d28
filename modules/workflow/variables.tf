# ---------------------------------------------------------------------------------------------
# Naming and tags
# ---------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every resource name, so that several deployments coexist in one account and region."
  type        = string
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

variable "kms_key_arns" {
  description = "The deployment's KMS keys, validated by the root module (null: the service's default encryption). This module uses sns (the failure topic, when customer managed)."
  type = object({
    training_volume = optional(string)
    training_output = optional(string)
    endpoint        = optional(string)
    logs            = optional(string)
    sns             = optional(string)
    sqs             = optional(string)
  })
  default = {}
}

variable "definition_template" {
  description = "Path of the state machine's ASL template (statemachine/parent.asl.json of the root module), rendered with templatefile()."
  type        = string
}

# ---------------------------------------------------------------------------------------------
# Logging and tracing
# ---------------------------------------------------------------------------------------------

variable "logging" {
  description = "How the deployment logs, validated by the root module: level (ALL, ERROR, FATAL or OFF) and include_execution_data of the state machines' logs, retention_days of every log group (0 keeps logs forever), and kms_key_arn, the key that encrypts the log groups (null: CloudWatch Logs' own encryption; its key policy must allow CloudWatch Logs)."
  type = object({
    level                  = string
    include_execution_data = bool
    retention_days         = number
    kms_key_arn            = optional(string)
  })
}

variable "xray_tracing" {
  description = "Trace the state machine's executions with AWS X-Ray."
  type        = bool
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

# ---------------------------------------------------------------------------------------------
# Account
# ---------------------------------------------------------------------------------------------

variable "aws_context" {
  description = "The partition (and its DNS suffix), account ID and region the ARNs and endpoints are built from, read once by the root module (aws_partition, aws_caller_identity and aws_region) and handed to every component, so a plan does not read them again per component."
  type = object({
    partition  = string
    dns_suffix = string
    account_id = string
    region     = string
  })
}
