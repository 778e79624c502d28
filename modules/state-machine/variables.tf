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
# Tags
# ---------------------------------------------------------------------------------------------

variable "tags" {
  description = "Tags of the state machine, its role and its log group."
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
