# Intent: an SQS queue named jobs with a 60 second visibility timeout.
package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_sqs_queue"
	r.values.name == "jobs"
	r.values.visibility_timeout_seconds == 60
}
