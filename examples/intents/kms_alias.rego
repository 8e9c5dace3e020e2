# Intent: a KMS key with rotation enabled, and the alias alias/app pointing at it.
package terraform.validation

import rego.v1

default is_valid := false

default has_rotating_key := false

default has_alias := false

has_rotating_key if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_kms_key"
	r.values.enable_key_rotation == true
}

has_alias if {
	some r in input.configuration.root_module.resources
	r.type == "aws_kms_alias"
	r.expressions.name.constant_value == "alias/app"
	some ref in r.expressions.target_key_id.references
	startswith(ref, "aws_kms_key.")
}

is_valid if {
	has_rotating_key
	has_alias
}
