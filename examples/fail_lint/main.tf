# Secure and deployable, but the variable is untyped and undocumented, one is never used, and
# the provider version is not pinned.
provider "aws" {
  region = "us-east-1"
}

variable "queue_name" {
  default = "jobs"
}

variable "unused_retention" {
  type        = number
  description = "Never referenced."
  default     = 86400
}

resource "aws_sqs_queue" "jobs" {
  name                    = "${var.queue_name}"
  sqs_managed_sse_enabled = true
}
