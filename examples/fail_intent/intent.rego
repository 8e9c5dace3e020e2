# Intent: order events go to an SNS topic encrypted with a customer-managed KMS key and are
# delivered to SQS queues that are all encrypted with a KMS key, one of them a dead-letter queue.
package terraform.validation

import rego.v1

default is_valid := false

default is_valid_topic := false

default is_valid_queues := false

default is_valid_subscription := false

is_valid_topic if {
	some r in input.configuration.root_module.resources
	r.type == "aws_sns_topic"
	some ref in r.expressions.kms_master_key_id.references
	startswith(ref, "aws_kms_key.")
}

is_valid_queues if {
	resources := input.configuration.root_module.resources
	count([r | some r in resources; r.type == "aws_sqs_queue"]) >= 2
	count([r | some r in resources; r.type == "aws_sqs_queue"; not r.expressions.kms_master_key_id]) == 0
	some q in resources
	q.type == "aws_sqs_queue"
	q.expressions.redrive_policy
}

is_valid_subscription if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_sns_topic_subscription"
	r.values.protocol == "sqs"
}

is_valid if {
	is_valid_topic
	is_valid_queues
	is_valid_subscription
}
