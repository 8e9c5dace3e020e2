# Intent: an ECR repository named web that scans images on push.
package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
	some r in input.planned_values.root_module.resources
	r.type == "aws_ecr_repository"
	r.values.name == "web"
	r.values.image_scanning_configuration[0].scan_on_push == true
}
