# Intent: a VPC 10.0.0.0/16 with a subnet 10.0.1.0/24 inside it.
package terraform.validation

import rego.v1

default is_valid := false

default has_vpc := false

default has_subnet := false

has_vpc if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_vpc"
	r.values.cidr_block == "10.0.0.0/16"
}

has_subnet if {
	some r in input.configuration.root_module.resources
	r.type == "aws_subnet"
	r.expressions.cidr_block.constant_value == "10.0.1.0/24"
	some ref in r.expressions.vpc_id.references
	startswith(ref, "aws_vpc.")
}

is_valid if {
	has_vpc
	has_subnet
}
