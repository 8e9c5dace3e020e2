# Intent: an on-demand DynamoDB table named users keyed by the string user_id.
package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_dynamodb_table"
	r.values.name == "users"
	r.values.hash_key == "user_id"
	r.values.billing_mode == "PAY_PER_REQUEST"
	some a in r.values.attribute
	a.name == "user_id"
	a.type == "S"
}
