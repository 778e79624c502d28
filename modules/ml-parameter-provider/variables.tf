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
# Parameters
# ---------------------------------------------------------------------------------------------

variable "parameter_store_path" {
  description = "Parameter Store path under which the parameters are published, one per leaf (for example /ml-project/model/hosting/instanceType), the hyperparameters under the sub-path hyperparameters/. A published copy: the workflows never read it."
  type        = string
  default     = "/ml-project"

  validation {
    condition     = can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.parameter_store_path)) && !can(regex("^/(?i)(aws|ssm)", var.parameter_store_path))
    error_message = "The parameter_store_path must look like /name or /name/sub (letters, digits, _ . -; no trailing slash) and must not start with /aws or /ssm, which Parameter Store reserves."
  }
}

variable "parameters" {
  description = "The values to publish, by key path (\"model/hosting/instanceType\" => \"ml.c5.2xlarge\"): one per leaf of the parameter files, the hyperparameters under hyperparameters/, as the root module reads them."
  type        = map(string)

  validation {
    condition     = alltrue([for key, value in var.parameters : value != ""])
    error_message = "The parameters must not hold empty values: Parameter Store cannot store one."
  }
}

# ---------------------------------------------------------------------------------------------
# Manifest trigger
# ---------------------------------------------------------------------------------------------

variable "enable_manifest_trigger" {
  description = "Create the Lambda function that starts the workflow when a manifest (*.json) is uploaded under manifest_prefix of manifest_bucket_name, with the permission for S3 to invoke it. The bucket notification itself is created only with manage_bucket_notification."
  type        = bool
  default     = false
}

variable "manage_bucket_notification" {
  description = "Also create the bucket's S3 notification that invokes the trigger. Caution: that resource owns the bucket's WHOLE notification configuration and replaces any other notification on the bucket. Leave false when the bucket has other notifications, and add the trigger (output manifest_trigger_lambda_arn) to your own notification configuration."
  type        = bool
  default     = false
}

variable "manifest_bucket_name" {
  description = "Name of the S3 bucket where manifests are uploaded. Required with enable_manifest_trigger."
  type        = string
  default     = null
}

variable "manifest_prefix" {
  description = "Key prefix under which an uploaded manifest (*.json) starts a run, for example \"manifests/\"."
  type        = string
  default     = "manifests/"

  validation {
    condition     = var.manifest_prefix == "" || can(regex("^[^/].*/$", var.manifest_prefix))
    error_message = "The manifest_prefix must be empty or a key prefix ending with \"/\" and not starting with \"/\", for example \"manifests/\"."
  }
}

variable "state_machine_arn" {
  description = "ARN of the state machine the trigger starts (the workflow). Required with enable_manifest_trigger."
  type        = string
  default     = null

  validation {
    condition     = var.state_machine_arn == null || can(regex("^arn:[a-z-]+:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$", var.state_machine_arn))
    error_message = "The state_machine_arn must be a state machine ARN (arn:<partition>:states:<region>:<account>:stateMachine:<name>)."
  }
}

variable "trigger_maximum_retry_attempts" {
  description = "How many times Lambda retries a failed invocation of the trigger (0-2) before it sends the invocation record to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.trigger_maximum_retry_attempts)
    error_message = "The trigger_maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "trigger_maximum_event_age_seconds" {
  description = "How long Lambda keeps an S3 event for the trigger (60-21600 seconds) while it waits to run or retry it; an older event goes to the failure queue."
  type        = number
  default     = 3600

  validation {
    condition     = var.trigger_maximum_event_age_seconds >= 60 && var.trigger_maximum_event_age_seconds <= 21600
    error_message = "The trigger_maximum_event_age_seconds must be between 60 and 21600."
  }
}

variable "failure_queue_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the trigger's failure queue, or null for the AWS managed key alias/aws/sqs. The trigger's role gets kms:GenerateDataKey and kms:Decrypt on it."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Trigger function
# ---------------------------------------------------------------------------------------------

variable "lambda_package_path" {
  description = "Path of the Lambda deployment package; null means the package bundled with this module (lambda_src/dist/lambda-x86_64.zip)."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Python runtime of the trigger function."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.lambda_runtime))
    error_message = "The lambda_runtime must be a Python 3 runtime identifier such as python3.12 (python3.8 is the newest that AWS provider 3.39 accepts)."
  }
}

variable "log_retention_days" {
  description = "Retention of the trigger function's log group in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the trigger function's log group, or null for CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "enable_xray_tracing" {
  description = "Trace the trigger function with AWS X-Ray."
  type        = bool
  default     = false
}
