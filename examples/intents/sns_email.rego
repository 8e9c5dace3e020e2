# Intent: an SNS topic named alerts with an email subscription.
package terraform.validation

import rego.v1

default is_valid := false

default has_topic := false

default has_email_subscription := false

has_topic if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_sns_topic"
	r.values.name == "alerts"
}

has_email_subscription if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_sns_topic_subscription"
	r.values.protocol == "email"
	r.values.endpoint == "ops@example.com"
}

is_valid if {
	has_topic
	has_email_subscription
}
