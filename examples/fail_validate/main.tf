# Parses, but `versioning_enabled` is not an argument of aws_s3_bucket.
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

resource "aws_s3_bucket" "data" {
  bucket             = "example-data"
  versioning_enabled = true
}
