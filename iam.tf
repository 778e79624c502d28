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

locals {
  # The policies are written as JSON here rather than read from aws_iam_policy_document data
  # sources: each data source is one more read in every plan.
  sagemaker_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SageMakerAssumesRole"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "sagemaker.amazonaws.com" }
      # Confused-deputy protection: only SageMaker acting for this account.
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  sagemaker_execution_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ListDataBuckets"
          Effect   = "Allow"
          Action   = ["s3:GetBucketLocation", "s3:ListBucket"]
          Resource = [for bucket in local.sagemaker_bucket_names : "arn:${local.partition}:s3:::${bucket}"]
        },
        {
          Sid      = "ReadData"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [for bucket in local.sagemaker_bucket_names : "arn:${local.partition}:s3:::${bucket}/*"]
        },
      ],
      length(local.s3_write_object_arns) == 0 ? [] : [{
        Sid      = "WriteArtifactsAndCheckpoints"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"]
        Resource = local.s3_write_object_arns
      }],
      length(local.ecr_repository_arns) == 0 ? [] : [{
        Sid      = "PullImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = local.ecr_repository_arns
      }],
      [
        {
          # ECR's GetAuthorizationToken has no resource-level permissions: "*" is the only
          # resource.
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = ["*"]
        },
        {
          Sid    = "WriteSageMakerLogs"
          Effect = "Allow"
          Action = [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
          ]
          Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*"]
        },
        {
          # PutMetricData has no resource-level permissions; the namespace condition limits it
          # to SageMaker's metrics.
          Sid       = "PutSageMakerMetrics"
          Effect    = "Allow"
          Action    = ["cloudwatch:PutMetricData"]
          Resource  = ["*"]
          Condition = { StringLike = { "cloudwatch:namespace" = ["/aws/sagemaker/*"] } }
        },
      ],
      !local.uses_vpc ? [] : [
        {
          # EC2's Describe APIs have no resource-level permissions.
          Sid    = "DescribeVpcResources"
          Effect = "Allow"
          Action = [
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
          ]
          Resource = ["*"]
        },
        {
          Sid    = "CreateNetworkInterfacesInTheGivenSubnets"
          Effect = "Allow"
          Action = ["ec2:CreateNetworkInterface"]
          Resource = concat(
            [for id in local.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"],
            [for id in local.security_group_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${id}"],
            ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
          )
        },
        {
          # Network interfaces get generated IDs: they cannot be named in advance.
          Sid    = "ManageNetworkInterfaces"
          Effect = "Allow"
          Action = [
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
          ]
          Resource = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
        },
      ],
      length(local.sagemaker_kms_key_arns) == 0 ? [] : [{
        Sid    = "UseEncryptionKeys"
        Effect = "Allow"
        Action = [
          "kms:CreateGrant",
          "kms:Decrypt",
          "kms:DescribeKey",
          "kms:Encrypt",
          "kms:GenerateDataKey",
        ]
        Resource = local.sagemaker_kms_key_arns
      }],
    )
  })
}

resource "aws_iam_role" "sagemaker_execution" {
  count = local.create_sagemaker_role ? 1 : 0

  name               = local.sagemaker_role_name
  description        = "Assumed by SageMaker to run the ${var.name_prefix} training jobs and host its model."
  assume_role_policy = local.sagemaker_assume_role_policy
  tags               = local.tags
}

resource "aws_iam_role_policy" "sagemaker_execution" {
  count = local.create_sagemaker_role ? 1 : 0

  name   = "${local.sagemaker_role_name}-permissions"
  role   = aws_iam_role.sagemaker_execution[0].id
  policy = local.sagemaker_execution_policy
}
