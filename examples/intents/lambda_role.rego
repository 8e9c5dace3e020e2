# Intent: an IAM role that the Lambda service can assume.
package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_iam_role"
	policy := json.unmarshal(r.values.assume_role_policy)
	some s in policy.Statement
	s.Effect == "Allow"
	s.Principal.Service == "lambda.amazonaws.com"
}
