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
  description = "Tags of every resource this module creates, also given to the SageMaker tuning job and model a run creates."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

variable "tuning" {
  description = "What the tuner uses of the parameter files, read and checked by the root module: the base names of the tuning jobs and models and the algorithm resource (they scope the permissions), whether warm start and a model VPC are configured (they shape the workflow's requests), the IAM wildcard of a run id (one \"?\" per hex digit), and both documents as the tuner's first state validates them (JSON)."
  type = object({
    tuning_job_name      = string
    model_name           = string
    algorithm_arn        = optional(string)
    has_warm_start       = bool
    has_model_vpc        = bool
    run_id_wildcard      = string
    ml_parameters_json   = string
    hyperparameters_json = string
  })
}

# ---------------------------------------------------------------------------------------------
# Collaborators
# ---------------------------------------------------------------------------------------------

variable "sagemaker_execution_role_arn" {
  description = "ARN of the role SageMaker assumes to run the training jobs and to host the model. The only role this workflow may pass."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/.+$", var.sagemaker_execution_role_arn))
    error_message = "The sagemaker_execution_role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)."
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

variable "data_bucket_names" {
  description = "The deployment's S3 buckets: a manifest given as manifestS3Uri and every channel's S3Uri must name one of them (checked before any SageMaker call), and the roles may read only these."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "KMS keys of the training jobs: training_volume encrypts the training instances' storage volumes, training_output the model artifacts. Null means SageMaker's default encryption."
  type = object({
    training_volume = optional(string)
    training_output = optional(string)
  })
  default = {}
}

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

variable "lambda_package_path" {
  description = "Path of the Lambda deployment package; null means the package bundled with this module (lambda_src/dist/lambda-x86_64.zip)."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Python runtime of the Lambda functions."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.lambda_runtime))
    error_message = "The lambda_runtime must be a Python 3 runtime identifier such as python3.12 (python3.8 is the newest that AWS provider 3.39 accepts)."
  }
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
  description = "Retention of every log group of this module, in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log groups, or null for CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "enable_xray_tracing" {
  description = "Trace the state machine and the Lambda functions with AWS X-Ray."
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

variable "sagemaker_retry_schedule" {
  description = "How the state machine retries optimized SageMaker calls refused for throttling/5xx (random wait up to throttle_delays[attempt]) or an exhausted quota (quota_delays[attempt] plus up to quota_jitter seconds); attempts is the number of retries per call. The root module computes it from its sagemaker_retry variable."
  type = object({
    attempts        = number
    throttle_delays = list(number)
    quota_delays    = list(number)
    quota_jitter    = number
  })

  validation {
    condition = (
      var.sagemaker_retry_schedule.attempts >= 0 &&
      length(var.sagemaker_retry_schedule.throttle_delays) >= var.sagemaker_retry_schedule.attempts &&
      length(var.sagemaker_retry_schedule.quota_delays) >= var.sagemaker_retry_schedule.attempts &&
      alltrue([for d in var.sagemaker_retry_schedule.throttle_delays : d >= 2 && floor(d) == d])
    )
    error_message = "sagemaker_retry_schedule: attempts must be >= 0, each delay list must have at least attempts entries, and throttle delays must be whole numbers >= 2."
  }
}
