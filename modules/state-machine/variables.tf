# ---------------------------------------------------------------------------------------------
# State machine
# ---------------------------------------------------------------------------------------------

variable "name" {
  description = "Name of the state machine. Also names its IAM role (the name with the suffix -role) and its log group (/aws/vendedlogs/states/ followed by the name)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,59}$", var.name))
    error_message = "The name must be 1-59 characters of letters, digits, hyphens and underscores (the role name adds 5 characters to it and IAM allows 64)."
  }
}

variable "definition" {
  description = "The state machine definition (Amazon States Language, JSON)."
  type        = string
}

variable "role_description" {
  description = "Description of the state machine's IAM role."
  type        = string
  default     = ""
}

# ---------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------

variable "policy_statements" {
  description = "IAM statements of the state machine's own role, beyond log delivery (and X-Ray when tracing is on). Each: sid, actions, resources, optional conditions."
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

  validation {
    condition     = alltrue([for s in var.policy_statements : alltrue([for a in s.actions : !can(regex("\\*", a))])])
    error_message = "The policy_statements must not use wildcards in actions: name every action."
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
  description = "Include execution input, output and state data in the logs. Off by default: the data can hold S3 URIs and parameters."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the state machine's log group in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
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
  description = "Trace executions with AWS X-Ray."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------------------------

variable "tags" {
  description = "Tags of the state machine, its role and its log group."
  type        = map(string)
  default     = {}
}
