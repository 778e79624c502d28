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

variable "package_path" {
  description = "Path of the deployment package (zip). Its SHA-256 is the function's source_code_hash, so an unchanged zip never shows a diff."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime identifier, for example python3.12."
  type        = string

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "The runtime must be a Python 3 runtime identifier such as python3.12 (python3.8 is the newest that AWS provider 3.39 accepts)."
  }
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

variable "log_retention_days" {
  description = "Retention of the function's log group in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "logs_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log group, or null for CloudWatch Logs' default encryption. The key policy must allow the CloudWatch Logs service principal."
  type        = string
  default     = null
}

variable "enable_xray_tracing" {
  description = "Trace invocations with AWS X-Ray (Active tracing)."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------

variable "tags" {
  description = "Tags of the function, its role and its log group."
  type        = map(string)
  default     = {}
}
