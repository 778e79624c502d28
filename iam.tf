# ---------------------------------------------------------------------------------------------
# SageMaker execution role: what the training jobs and the hosted model may touch. Created
# unless sagemaker_execution_role_arn brings one. (Each component's own role lives with the
# component: modules/lambda-function and modules/state-machine.)
# ---------------------------------------------------------------------------------------------

locals {
  create_sagemaker_role = var.sagemaker_execution_role_arn == null
  sagemaker_role_name   = "${var.name_prefix}-sagemaker-execution"
  sagemaker_execution_role_arn = (
    local.create_sagemaker_role
    ? "arn:${local.partition}:iam::${local.account_id}:role/${local.sagemaker_role_name}"
    : var.sagemaker_execution_role_arn
  )

  # The S3 locations of ml-parameters (the training output, the checkpoints) are the only places
  # the training jobs write. Each is on one of the deployment's buckets (parameters.tf fails
  # the plan otherwise), and those buckets are the only ones the role may read.
  s3_write_object_arns = distinct([
    for location in local.s3_locations : "arn:${local.partition}:s3:::${location.bucket}/${location.prefix}*"
  ])
  sagemaker_bucket_names = local.data_bucket_names

  # Images named in the parameters are pulled from their own repositories. An algorithm
  # resource names its images inside the algorithm, unknown at plan time: then the role may
  # pull from this account's repositories in this region.
  ecr_image_pattern = "^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)"
  ecr_images        = local.sagemaker_access.images
  ecr_repository_arns = distinct(concat(
    [
      for image in local.ecr_images : format(
        "arn:%s:ecr:%s:%s:repository/%s",
        local.partition, regex(local.ecr_image_pattern, image)[1], regex(local.ecr_image_pattern, image)[0], regex(local.ecr_image_pattern, image)[2],
      ) if can(regex(local.ecr_image_pattern, image))
    ],
    local.sagemaker_access.uses_algorithm ? ["arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/*"] : [],
  ))

  subnet_ids         = local.sagemaker_access.subnet_ids
  security_group_ids = local.sagemaker_access.security_group_ids
  uses_vpc           = length(local.subnet_ids) > 0

  sagemaker_kms_key_arns = compact([
    var.kms_key_arns.training_volume,
    var.kms_key_arns.training_output,
    var.kms_key_arns.endpoint,
  ])
}

data "aws_iam_policy_document" "sagemaker_assume_role" {
  count = local.create_sagemaker_role ? 1 : 0

  statement {
    sid     = "SageMakerAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }

    # Confused-deputy protection: only SageMaker acting for this account.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "sagemaker_execution" {
  count = local.create_sagemaker_role ? 1 : 0

  name               = local.sagemaker_role_name
  description        = "Assumed by SageMaker to run the ${var.name_prefix} training jobs and host its model."
  assume_role_policy = data.aws_iam_policy_document.sagemaker_assume_role[0].json
  tags               = local.tags
}

data "aws_iam_policy_document" "sagemaker_execution" {
  count = local.create_sagemaker_role ? 1 : 0

  statement {
    sid       = "ListDataBuckets"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [for bucket in local.sagemaker_bucket_names : "arn:${local.partition}:s3:::${bucket}"]
  }

  statement {
    sid       = "ReadData"
    actions   = ["s3:GetObject"]
    resources = [for bucket in local.sagemaker_bucket_names : "arn:${local.partition}:s3:::${bucket}/*"]
  }

  dynamic "statement" {
    for_each = length(local.s3_write_object_arns) > 0 ? [1] : []

    content {
      sid       = "WriteArtifactsAndCheckpoints"
      actions   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"]
      resources = local.s3_write_object_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.ecr_repository_arns) > 0 ? [1] : []

    content {
      sid       = "PullImages"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = local.ecr_repository_arns
    }
  }

  statement {
    # ECR's GetAuthorizationToken has no resource-level permissions: "*" is the only resource.
    sid       = "AuthenticateToEcr"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "WriteSageMakerLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*"]
  }

  statement {
    # PutMetricData has no resource-level permissions; the namespace condition limits it to
    # SageMaker's metrics.
    sid       = "PutSageMakerMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }

  dynamic "statement" {
    for_each = local.uses_vpc ? [1] : []

    content {
      # EC2's Describe APIs have no resource-level permissions.
      sid = "DescribeVpcResources"
      actions = [
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.uses_vpc ? [1] : []

    content {
      sid     = "CreateNetworkInterfacesInTheGivenSubnets"
      actions = ["ec2:CreateNetworkInterface"]
      resources = concat(
        [for id in local.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"],
        [for id in local.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${id}"],
        ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
      )
    }
  }

  dynamic "statement" {
    for_each = local.uses_vpc ? [1] : []

    content {
      # Network interfaces get generated IDs: they cannot be named in advance.
      sid = "ManageNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
      ]
      resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
    }
  }

  dynamic "statement" {
    for_each = length(local.sagemaker_kms_key_arns) > 0 ? [1] : []

    content {
      sid = "UseEncryptionKeys"
      actions = [
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
      ]
      resources = local.sagemaker_kms_key_arns
    }
  }
}

resource "aws_iam_role_policy" "sagemaker_execution" {
  count = local.create_sagemaker_role ? 1 : 0

  name   = "${local.sagemaker_role_name}-permissions"
  role   = aws_iam_role.sagemaker_execution[0].id
  policy = data.aws_iam_policy_document.sagemaker_execution[0].json
}
