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
# Parameters
# ---------------------------------------------------------------------------------------------

variable "parameter_store_path" {
  description = "Parameter Store path under which the parameters are published, each under <path>/<key path>; null means /<name_prefix>. A published copy: the workflows never read it."
  type        = string
  default     = null

  validation {
    condition     = var.parameter_store_path == null || (can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.parameter_store_path)) && !can(regex("^/(?i)(aws|ssm)", var.parameter_store_path)))
    error_message = "The parameter_store_path must look like /name or /name/sub (letters, digits, _ . -; no trailing slash) and must not start with /aws or /ssm, which Parameter Store reserves."
  }
}

variable "parameters" {
  description = "The values to publish, by key path, as the root module's parameter_store_layout chooses: one per file (\"ml-parameters\" and \"hyperparameters\" => the document as JSON), or one per leaf (\"model/hosting/instanceType\" => \"ml.c5.2xlarge\", the hyperparameters under hyperparameters/). Each is Standard tier up to 4096 bytes, Advanced up to 8192; a larger value fails the plan."
  type        = map(string)

  validation {
    condition     = alltrue([for key, value in var.parameters : value != ""])
    error_message = "The parameters must not hold empty values: Parameter Store cannot store one."
  }
}

variable "parameter_sources" {
  description = "Where each value comes from, by key path, as the error for a value over 8192 bytes names it (the file, and what to do)."
  type        = map(string)
  default     = {}
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

variable "kms_key_arns" {
  description = "The deployment's KMS keys, validated by the root module (null: the service's default encryption). This module uses sqs (the trigger's failure queue; null: the AWS managed key alias/aws/sqs, which needs no KMS permission)."
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
# Trigger function
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
