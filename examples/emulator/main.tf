# The module, deployed to a local AWS emulator (moto server with this project's emulation layer,
# python -m smtune.emulator). Everything here is local: fake credentials, every service endpoint
# pointed at endpoint_url, and an S3 bucket this example owns.
#
# The provider settings are those of the offline toolchain (AWS provider 3.39): its argument
# names (s3_force_path_style, skip_get_ec2_platforms, cloudwatchlogs / cloudwatchevents
# endpoints) were renamed in later provider releases.

provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_get_ec2_platforms      = true
  skip_region_validation      = true
  s3_force_path_style         = true

  endpoints {
    applicationautoscaling = var.endpoint_url
    cloudwatch             = var.endpoint_url
    cloudwatchevents       = var.endpoint_url
    cloudwatchlogs         = var.endpoint_url
    ec2                    = var.endpoint_url
    iam                    = var.endpoint_url
    kms                    = var.endpoint_url
    lambda                 = var.endpoint_url
    s3                     = var.endpoint_url
    sagemaker              = var.endpoint_url
    sns                    = var.endpoint_url
    sqs                    = var.endpoint_url
    ssm                    = var.endpoint_url
    stepfunctions          = var.endpoint_url
    sts                    = var.endpoint_url
  }
}

# The data bucket: the training data, the manifests and the model artifacts. This example owns
# it, so it may also own its notification configuration (manage_bucket_notification).
resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:Emulator-only bucket: there is no access log target in the emulator.
  #checkov:skip=CKV_AWS_21:Emulator-only bucket, destroyed with the example: versioning keeps nothing worth keeping.
  #checkov:skip=CKV_AWS_144:Emulator-only bucket: there is no second region to replicate to.
  #checkov:skip=CKV_AWS_145:Emulator-only bucket: the emulator has no KMS-backed storage.
  #checkov:skip=CKV2_AWS_6:Emulator-only bucket: public access blocks have no meaning on a loopback emulator.
  #checkov:skip=CKV2_AWS_61:Emulator-only bucket, destroyed with the example: no lifecycle needed.
  #checkov:skip=CKV2_AWS_62:The manifest trigger's notification is managed by the module (manage_bucket_notification).
  bucket        = var.s3_bucket
  force_destroy = true
}

# The module's Lambda package, uploaded under a key named by its content: the functions take
# their code from this object (lambda_package_s3), so Terraform creates them side by side.
resource "aws_s3_bucket_object" "lambda_package" {
  #checkov:skip=CKV_AWS_186:Emulator-only object: the emulator has no KMS-backed storage.
  bucket = aws_s3_bucket.data.bucket
  key    = "lambda-packages/${filesha256(module.sagemaker_tuner.lambda_package_path)}.zip"
  source = module.sagemaker_tuner.lambda_package_path
}

module "sagemaker_tuner" {
  source = "../.."

  name_prefix          = var.name_prefix
  environment          = var.environment
  s3_bucket            = aws_s3_bucket.data.bucket
  parameter_store_path = var.parameter_store_path
  ml_parameters_file   = var.ml_parameters_file
  hyperparameters_file = var.hyperparameters_file

  enable_manifest_trigger    = var.enable_manifest_trigger
  manage_bucket_notification = var.enable_manifest_trigger
  manifest_prefix            = var.manifest_prefix

  lambda_runtime      = var.lambda_runtime
  lambda_package_path = var.lambda_package_path
  lambda_package_s3 = {
    bucket = aws_s3_bucket_object.lambda_package.bucket
    key    = aws_s3_bucket_object.lambda_package.key
  }
}
