# ---------------------------------------------------------------------------------------------
# Failure notifications: every failure path of the workflows publishes a readable message here.
# ---------------------------------------------------------------------------------------------

locals {
  create_sns_topic = var.sns_topic_arn == null
  sns_topic_name   = "${var.name_prefix}-notifications"
  sns_topic_arn    = local.create_sns_topic ? "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.sns_topic_name}" : var.sns_topic_arn
}

resource "aws_sns_topic" "notifications" {
  count = local.create_sns_topic ? 1 : 0

  name = local.sns_topic_name
  # The AWS managed key needs no key policy and no KMS permission for the publishers.
  kms_master_key_id = coalesce(var.kms_key_arns.sns, "alias/aws/sns")
  tags              = local.tags
}
