terraform {
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The provider arguments that point it at an emulator (s3_force_path_style,
      # skip_get_ec2_platforms, the cloudwatchlogs / cloudwatchevents endpoint names) were
      # renamed or removed in provider 5; the module itself supports every release from 3.39.
      version = ">= 3.39, < 5.0"
    }
  }
}
