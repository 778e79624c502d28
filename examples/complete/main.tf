# Usage 1: apply the module from this repository with a tfvars file.
#
#   smtune init-params --account <account> --region <region> --bucket <bucket> \
#     --output ../../ml-parameters.json
#   cd examples/complete
#   cp terraform.tfvars.example terraform.tfvars   # then edit region and s3_bucket
#   terraform init && terraform apply

provider "aws" {
  region = var.region
}

module "sagemaker_tuner" {
  source = "../.."

  name_prefix          = var.name_prefix
  environment          = var.environment
  s3_bucket            = var.s3_bucket
  parameter_store_path = var.parameter_store_path
  ml_parameters_file   = var.ml_parameters_file
  hyperparameters_file = var.hyperparameters_file
  lambda_runtime       = var.lambda_runtime

  enable_manifest_trigger    = var.enable_manifest_trigger
  manage_bucket_notification = var.manage_bucket_notification
  manifest_prefix            = var.manifest_prefix
}
