# A model stopped mid-block: the closing brace of the bucket is missing.
provider "aws" {
  region = "us-east-1"
}

resource "aws_s3_bucket" "logs" {
  bucket = "example-logs"
