# ---------------------------------------------------------------------------------------------
# The seed stack's deployment options
# ---------------------------------------------------------------------------------------------

variable "region" {
  description = "AWS region to deploy to."
  type        = string
}

variable "s3_bucket" {
  description = "S3 bucket that holds the training data, the manifests and the model artifacts."
  type        = string
}

variable "environment" {
  description = "Environment name, added to every resource as the tag \"Environment\" (the seed stack's key)."
  type        = string
  default     = "development"
}

variable "parameter_store_path" {
  description = "Parameter Store path under which the parameters are published; null publishes under /<name_prefix>, \"/ml-project\" is the seed stack's path."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# Parameter files and names
# ---------------------------------------------------------------------------------------------

variable "ml_parameters_file" {
  description = "Path of your ml-parameters.json, relative to this directory (smtune init-params writes one from your account, region and bucket). Its S3 locations must be on s3_bucket."
  type        = string
}

variable "hyperparameters_file" {
  description = "Path of hyperparameters.json, relative to this directory."
  type        = string
  default     = "../params/hyperparameters.json"
}

variable "lambda_runtime" {
  description = "Python runtime of the Lambda functions: python3.8 or newer. The AWS provider validates it: 3.39 accepts python3.8 at most, python3.12 needs provider 5.27.0 or later (the README lists the version each runtime needs)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.([89]|[1-9][0-9])$", var.lambda_runtime))
    error_message = "The lambda_runtime must be a Python runtime identifier from python3.8 on, such as python3.12: the Lambda package needs Python 3.8 or newer."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "sagemaker-tuner"
}

# ---------------------------------------------------------------------------------------------
# Manifest trigger
# ---------------------------------------------------------------------------------------------

variable "enable_manifest_trigger" {
  description = "Start a run when a manifest is uploaded under manifest_prefix of s3_bucket."
  type        = bool
  default     = false
}

variable "manage_bucket_notification" {
  description = "Create the bucket notification for the trigger. It replaces the bucket's WHOLE notification configuration: leave false if the bucket has other notifications."
  type        = bool
  default     = false
}

variable "manifest_prefix" {
  description = "Key prefix under which an uploaded manifest starts a run."
  type        = string
  default     = "manifests/"
}
