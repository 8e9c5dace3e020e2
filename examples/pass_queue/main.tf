# An encrypted SNS topic fanning out to an SQS queue with a dead-letter queue.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "account_id" {
  description = "The AWS account that administers the key."
  type        = string
  default     = "123456789012"
}

resource "aws_kms_key" "events" {
  description             = "Encrypts the order events topic and queues"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdmin"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_sns_topic" "orders" {
  name              = "order-events"
  kms_master_key_id = aws_kms_key.events.arn
}

resource "aws_sqs_queue" "orders_dlq" {
  name                      = "order-events-dlq"
  kms_master_key_id         = aws_kms_key.events.arn
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "orders" {
  name              = "order-events"
  kms_master_key_id = aws_kms_key.events.arn
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sns_topic_subscription" "orders" {
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.orders.arn
}

output "topic_arn" {
  description = "ARN of the order events topic."
  value       = aws_sns_topic.orders.arn
}
