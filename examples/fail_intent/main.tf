# Plans fine, but the queue is not encrypted and has no dead-letter queue: the intent says it must.
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

resource "aws_sns_topic" "orders" {
  name = "order-events"
}

resource "aws_sqs_queue" "orders" {
  name = "order-events"
}

resource "aws_sns_topic_subscription" "orders" {
  topic_arn = aws_sns_topic.orders.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.orders.arn
}
