# ---------------------------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------------------------

variable "function_name" {
  description = "Name of the Lambda function. Also names its IAM role (the name with the suffix -role) and its log group (/aws/lambda/ followed by the name)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,59}$", var.function_name))
    error_message = "The function_name must be 1-59 characters of letters, digits, hyphens and underscores (the role name adds 5 characters to it and IAM allows 64)."
  }
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Entry point of the function, as module.function (for example tuning_workflow.handlers.check_endpoint)."
  type        = string
}

variable "timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "The timeout must be between 1 and 900 seconds."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "The memory_size must be between 128 and 10240 MB."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function. Holds no secrets: they are stored unencrypted in the function configuration."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------

variable "policy_statements" {
  description = "IAM statements of the function's own role, beyond writing to its own log group (and X-Ray when tracing is on). Each: sid, actions, resources, optional conditions."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.policy_statements : alltrue([for a in s.actions : !can(regex("\\*", a))])])
    error_message = "The policy_statements must not use wildcards in actions: name every action."
  }
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
# Tags
# ---------------------------------------------------------------------------------------------

variable "tags" {
  description = "Tags of the function, its role and its log group."
  type        = map(string)
  default     = {}
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
