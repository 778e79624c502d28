# ---------------------------------------------------------------------------------------------
# Naming and tags
# ---------------------------------------------------------------------------------------------

variable "name_prefix" {
  description = "Prefix of every resource name (state machines, functions, roles, log groups, topic, queue, and the Parameter Store path unless parameter_store_path is set), so that several deployments coexist in one account and region; also the owner tag (sagemaker-tuner-deployer:deployment) of the endpoint the workflow creates or adopts."
  type        = string
  default     = "sagemaker-tuner"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name_prefix))
    error_message = "The name_prefix must be 2-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "environment" {
  description = "Environment name, added to every resource as the tag \"Environment\" (the seed stack's key)."
  type        = string
  default     = "development"

  validation {
    condition     = can(regex("^[a-zA-Z0-9 _.:/=+@-]{1,256}$", var.environment))
    error_message = "The environment must be 1-256 characters that AWS tags accept: letters, digits, spaces and _ . : / = + - @."
  }
}

variable "tags" {
  description = "Tags of every resource, also given to the SageMaker jobs, models, endpoint configs and endpoints the workflow creates. The Environment tag is added; a tag named environment in any case is replaced by it."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Parameter files
# ---------------------------------------------------------------------------------------------

variable "ml_parameters_file" {
  description = "Path of ml-parameters.json (relative paths are relative to the directory where terraform runs). Checked at plan time against lambda_src/tuning_workflow/schemas/ml-parameters.schema.json (every rule Terraform can express; its S3 locations must be on s3_bucket or additional_s3_bucket_names), validated in full by the workflow."
  type        = string

  validation {
    condition     = fileexists(var.ml_parameters_file)
    error_message = "The ml_parameters_file does not exist (relative paths are relative to the directory where terraform runs)."
  }

  validation {
    condition     = can(jsondecode(file(var.ml_parameters_file)))
    error_message = "The ml_parameters_file is not valid JSON."
  }
}

variable "hyperparameters_file" {
  description = "Path of hyperparameters.json (relative paths are relative to the directory where terraform runs)."
  type        = string

  validation {
    condition     = fileexists(var.hyperparameters_file)
    error_message = "The hyperparameters_file does not exist (relative paths are relative to the directory where terraform runs)."
  }

  validation {
    condition     = can(jsondecode(file(var.hyperparameters_file)))
    error_message = "The hyperparameters_file is not valid JSON."
  }
}

variable "parameter_store_path" {
  description = "Parameter Store path under which the parameters are published (see parameter_store_layout); null publishes under /<name_prefix>, so that deployments coexist. Set \"/ml-project\" to keep the seed stack's path (one deployment per account and region can use it). A published copy: the workflows use the values rendered at apply, never SSM."
  type        = string
  default     = null

  validation {
    condition     = var.parameter_store_path == null || (can(regex("^(/[a-zA-Z0-9_.-]+)+$", var.parameter_store_path)) && !can(regex("^/(?i)(aws|ssm)", var.parameter_store_path)))
    error_message = "The parameter_store_path must look like /name or /name/sub (letters, digits, _ . -; no trailing slash) and must not start with /aws or /ssm, which Parameter Store reserves."
  }
}

variable "parameter_store_layout" {
  description = "How the parameter files are published under parameter_store_path. \"document\" (the default): one parameter per file, <path>/ml-parameters and <path>/hyperparameters, each the whole document as JSON (Standard tier up to 4 KB, Advanced up to 8 KB; a larger file fails at plan time). \"leaves\": one parameter per value, as the seed stack published them (<path>/model/hosting/instanceType; the hyperparameters under <path>/hyperparameters/). The default is \"document\" because the copy is only an output (the workflows never read it; the parameter files are read the same way in both layouts): two parameters instead of one per value (38 for the example files) spare every plan three API requests per value (benchmarks/plan_cost.py). Choose \"leaves\" when something of yours reads single values by name."
  type        = string
  default     = "document"

  validation {
    condition     = contains(["document", "leaves"], var.parameter_store_layout)
    error_message = "The parameter_store_layout must be \"document\" (one JSON parameter per file) or \"leaves\" (one parameter per value, as the seed stack published them)."
  }
}

# ---------------------------------------------------------------------------------------------
# Data, manifests and the manifest trigger
# ---------------------------------------------------------------------------------------------

variable "s3_bucket" {
  description = "Name of the S3 bucket that holds the training data, the manifests and the model artifacts. SageMaker may read it; the workflow may read manifests from it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_bucket))
    error_message = "The s3_bucket must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "additional_s3_bucket_names" {
  description = "Other S3 buckets of the deployment: the manifests' channels may read from them, and the S3 locations of ml-parameters (training output, checkpoints) may be on them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for b in var.additional_s3_bucket_names : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "Every additional_s3_bucket_names entry must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "manifest_prefix" {
  description = "Key prefix in s3_bucket under which an uploaded manifest (*.json) starts a run, when the manifest trigger is on."
  type        = string
  default     = "manifests/"

  validation {
    condition     = var.manifest_prefix == "" || can(regex("^[^/].*/$", var.manifest_prefix))
    error_message = "The manifest_prefix must be empty or a key prefix ending with \"/\" and not starting with \"/\", for example \"manifests/\"."
  }
}

variable "enable_manifest_trigger" {
  description = "Create the Lambda function that starts the workflow when a manifest is uploaded under manifest_prefix, and allow S3 to invoke it. The bucket notification is created only with manage_bucket_notification."
  type        = bool
  default     = false
}

variable "manage_bucket_notification" {
  description = "Also create the S3 bucket notification that invokes the trigger. Caution: that resource owns the bucket's WHOLE notification configuration and replaces any other notification on the bucket. Leave false when the bucket has other notifications, and add output manifest_trigger_lambda_arn to your own notification configuration (events s3:ObjectCreated:*, prefix manifest_prefix, suffix .json)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Bring your own role and topic
# ---------------------------------------------------------------------------------------------

variable "sagemaker_execution_role_arn" {
  description = "ARN of an existing role for SageMaker to run the training jobs and host the model; null creates one scoped to the buckets, images and keys of this deployment."
  type        = string
  default     = null

  validation {
    condition     = var.sagemaker_execution_role_arn == null || can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/.+$", var.sagemaker_execution_role_arn))
    error_message = "The sagemaker_execution_role_arn must be null or an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)."
  }
}

variable "sns_topic_arn" {
  description = "ARN of an existing SNS topic for failure notifications; null creates one named after name_prefix (suffix -notifications). Subscribe to it to receive the messages."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.sns_topic_arn))
    error_message = "The sns_topic_arn must be null or an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)."
  }
}

# ---------------------------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------------------------

variable "kms_key_arns" {
  description = "KMS key ARNs, each optional (null: the service's default encryption): training_volume (training instances' volumes), training_output (model artifacts), endpoint (endpoint instances' volumes), logs (every log group; its key policy must allow CloudWatch Logs; null: CloudWatch Logs' own encryption at rest), sns (the created topic; null uses the AWS managed key alias/aws/sns), sqs (the manifest trigger's failure queue; null uses the AWS managed key alias/aws/sqs). The roles get the KMS permissions these keys need."
  type = object({
    training_volume = optional(string)
    training_output = optional(string)
    endpoint        = optional(string)
    logs            = optional(string)
    sns             = optional(string)
    sqs             = optional(string)
  })
  default = {}

  validation {
    condition = alltrue([
      for arn in values(var.kms_key_arns) : arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", arn))
    ])
    error_message = "Every kms_key_arns entry must be null or a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>); aliases cannot scope IAM permissions."
  }
}

# ---------------------------------------------------------------------------------------------
# Lambda functions
# ---------------------------------------------------------------------------------------------

variable "lambda_runtime" {
  description = "Python runtime of the Lambda functions: python3.8 or newer. The AWS provider validates it: 3.39 accepts python3.8 at most, python3.12 needs provider 5.27.0 or later (the README lists the version each runtime needs)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.([89]|[1-9][0-9])$", var.lambda_runtime))
    error_message = "The lambda_runtime must be a Python runtime identifier from python3.8 on, such as python3.12: the Lambda package needs Python 3.8 or newer."
  }
}

variable "lambda_package_path" {
  description = "Path of the Lambda deployment package; null uses the bundled x86_64 package (lambda_src/dist/lambda-x86_64.zip)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_package_path == null || try(fileexists(var.lambda_package_path), false)
    error_message = "The lambda_package_path does not exist (relative paths are relative to the directory where terraform runs)."
  }
}

variable "lambda_package_s3" {
  description = "Where the Lambda package (the file at lambda_package_path) was uploaded to S3: { bucket, key, object_version }. The functions then take their code from that object and Terraform creates them side by side; with the local file (null, the default) the AWS provider creates them one at a time, each waiting at least 5 s. The bucket must be in the module's region, and the upload must be that same file: the functions' source_code_hash is still the local file's."
  type = object({
    bucket         = string
    key            = string
    object_version = optional(string)
  })
  default = null

  validation {
    condition     = var.lambda_package_s3 == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lambda_package_s3.bucket))
    error_message = "The lambda_package_s3.bucket must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }

  validation {
    condition     = var.lambda_package_s3 == null || try(length(var.lambda_package_s3.key) >= 1 && length(var.lambda_package_s3.key) <= 1024, false)
    error_message = "The lambda_package_s3.key must be an S3 object key of 1 to 1024 characters."
  }

  validation {
    condition     = try(length(var.lambda_package_s3.object_version), 1) >= 1
    error_message = "The lambda_package_s3.object_version must be null or a version ID; an empty string is neither."
  }
}

# ---------------------------------------------------------------------------------------------
# Logging and tracing
# ---------------------------------------------------------------------------------------------

variable "log_level" {
  description = "What the state machines log to CloudWatch Logs: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "The log_level must be one of ALL, ERROR, FATAL, OFF."
  }
}

variable "log_include_execution_data" {
  description = "Include execution input, output and state data in the state machines' logs. Off by default: the data holds S3 URIs and parameters."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of every log group, in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "enable_xray_tracing" {
  description = "Trace the state machines and the Lambda functions with AWS X-Ray."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Retries
# ---------------------------------------------------------------------------------------------

variable "sagemaker_retry" {
  description = "How the state machines retry optimized SageMaker calls (the tuning job, CreateModel, CreateEndpointConfig) that AWS throttles (ThrottlingException, 5xx: a random wait up to a delay that doubles from throttle_base_seconds to throttle_max_seconds) or refuses for an exhausted quota (ResourceLimitExceeded, such as concurrent training jobs: a wait that doubles from quota_base_seconds to quota_max_seconds, plus up to quota_base_seconds of jitter). max_attempts bounds the retries of each call; validation errors are never retried."
  type = object({
    max_attempts          = optional(number, 6)
    throttle_base_seconds = optional(number, 2)
    throttle_max_seconds  = optional(number, 60)
    quota_base_seconds    = optional(number, 60)
    quota_max_seconds     = optional(number, 900)
  })
  default = {}

  validation {
    condition = (
      var.sagemaker_retry.max_attempts >= 0 && var.sagemaker_retry.max_attempts <= 20 &&
      var.sagemaker_retry.throttle_base_seconds >= 2 &&
      var.sagemaker_retry.throttle_max_seconds >= var.sagemaker_retry.throttle_base_seconds &&
      var.sagemaker_retry.quota_base_seconds >= 1 &&
      var.sagemaker_retry.quota_max_seconds >= var.sagemaker_retry.quota_base_seconds
    )
    error_message = "The sagemaker_retry: max_attempts must be 0 to 20, throttle_base_seconds at least 2, quota_base_seconds at least 1, and each max at least its base."
  }
}

variable "create_model_package_group" {
  description = "With modelRegistry in ml-parameters.json: true creates its model package group (and destroys it with the deployment, which SageMaker refuses while the group holds versions); false uses a group that exists already, created elsewhere."
  type        = bool
  default     = true
}
