# ---------------------------------------------------------------------------------------------
# Naming and tags
# ---------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every resource name, so that several deployments coexist in one account and region."
  type        = string
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

variable "data_bucket_names" {
  description = "The deployment's S3 buckets: a manifest given as manifestS3Uri and every channel's S3Uri must name one of them (checked before any SageMaker call), and the roles may read only these."
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "The deployment's KMS keys, validated by the root module (null: the service's default encryption). This module uses training_volume (the training instances' volumes), training_output (the model artifacts) and sns (the failure topic, when customer managed)."
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

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

variable "lambda_settings" {
  description = "How the deployment's Lambda functions run, validated by the root module: package_path (the deployment package, a zip; its SHA-256 is the functions' source_code_hash), package_s3 (where that package was uploaded to S3; null or left out sends the local file), runtime (a Python runtime identifier) and tracing (X-Ray active tracing)."
  type = object({
    package_path = string
    package_s3 = optional(object({
      bucket         = string
      key            = string
      object_version = optional(string)
    }))
    runtime = string
    tracing = bool
  })
}

variable "definition_template" {
  description = "Path of the state machine's ASL template (statemachine/tuner.asl.json of the root module), rendered with templatefile()."
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
