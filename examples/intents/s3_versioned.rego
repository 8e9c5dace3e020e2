# Intent: an S3 bucket named app-logs with versioning enabled.
package terraform.validation

import rego.v1

default is_valid := false

default has_bucket := false

default has_versioning := false

has_bucket if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_s3_bucket"
	r.values.bucket == "app-logs"
}

has_versioning if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_s3_bucket_versioning"
	r.values.versioning_configuration[0].status == "Enabled"
}

is_valid if {
	has_bucket
	has_versioning
}
