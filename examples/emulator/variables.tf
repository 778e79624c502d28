# ---------------------------------------------------------------------------------------------
# Emulator
# ---------------------------------------------------------------------------------------------

variable "endpoint_url" {
  description = "URL of the AWS emulator that serves every service (python -m smtune.emulator --port 5000)."
  type        = string
  default     = "http://127.0.0.1:5000"
}

variable "region" {
  description = "Region the emulator serves."
  type        = string
  default     = "us-east-1"
}

# ---------------------------------------------------------------------------------------------
# The seed stack's deployment options
# ---------------------------------------------------------------------------------------------

variable "s3_bucket" {
  description = "Name of the data bucket this example creates in the emulator (the example parameter files name sagemaker-tuner-demo)."
  type        = string
  default     = "sagemaker-tuner-demo"
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
# Parameter files, names, functions
# ---------------------------------------------------------------------------------------------

variable "ml_parameters_file" {
  description = "Path of ml-parameters.json, relative to this directory."
  type        = string
  default     = "../params/ml-parameters.json"
}

variable "hyperparameters_file" {
  description = "Path of hyperparameters.json, relative to this directory."
  type        = string
  default     = "../params/hyperparameters.json"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "sagemaker-tuner"
}

variable "enable_manifest_trigger" {
  description = "Start a run when a manifest is uploaded under manifest_prefix of the data bucket (the example owns the bucket, so it also manages the bucket notification)."
  type        = bool
  default     = true
}

variable "manifest_prefix" {
  description = "Key prefix under which an uploaded manifest starts a run."
  type        = string
  default     = "manifests/"
}

variable "lambda_runtime" {
  description = "Lambda runtime name. AWS provider 3.39 accepts python3.8 at most; the emulator runs the handlers with that Python (python3.8 on PATH) when it is installed, otherwise with its own."
  type        = string
  default     = "python3.8"
}

variable "lambda_package_path" {
  description = "Path of the Lambda deployment package; null uses the bundled lambda_src/dist/lambda-x86_64.zip."
  type        = string
  default     = null
}
