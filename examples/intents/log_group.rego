# Intent: a CloudWatch log group /app/web keeping logs for 14 days.
package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_cloudwatch_log_group"
	r.values.name == "/app/web"
	r.values.retention_in_days == 14
}
