"""Batched verification: certificates equal to one-by-one ones, diagnostics given back to the
right candidate, plans split as a root module's own, recordings used only where they fit."""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.hcl.extract import from_path
from iacforge.hcl.parse import parse_files
from iacforge.verify.batch import batched as batch
from iacforge.verify.batch.attribution import attribute
from iacforge.verify.batch.layout import ROOT_FILE, Layout, make_member
from iacforge.verify.batch.plan_split import split_plan
from iacforge.verify.batch.run import PLAN, SHOW, VALIDATE
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.sandbox.process import ProcessResult

FIXTURES = Path(__file__).parents[1] / "fixtures" / "batch"
NAMES = sorted(p.name for p in (FIXTURES / "candidates").iterdir())
INTENTS = json.loads((FIXTURES / "intents.json").read_text())
#: Candidates that are not directories: no files, an unsafe name, a tfvars file.
MADE = {
    "fail_extract_no_files": Candidate({}, source="no files"),
    "unsafe_file_name": Candidate({"../main.tf": 'resource "aws_sqs_queue" "q" {}\n'}),
    "one_by_one_tfvars": Candidate({
        "main.tf": 'variable "n" {\n  default = "a"\n}\n\n'
                   'resource "aws_sqs_queue" "q" {\n  name = var.n\n}\n',
        "terraform.tfvars": 'n = "from-tfvars"\n'}),
}


def _intent(name: str) -> IntentPolicy | None:
    policy = INTENTS.get(name)
    return IntentPolicy.from_file(FIXTURES / "intents" / policy) if policy else None


def comparable(cert: Certificate) -> dict[str, Any]:
    """A certificate with its plan, without what differs between two runs of one candidate.

    That is: timings and the plan's timestamp; the order of diagnostics (terraform collects
    graph-walk diagnostics from a Go map) and of relevant_attributes (sorted on a Go `%#v`
    of pointers); the snapshot ids moto makes up afresh for every AMI it describes; and the
    emulated account (each run, and each batch, plans in a fresh one).
    """
    text = json.dumps(cert.to_dict(include_plan=True))
    text = re.sub(r"(?<![0-9])[0-9]{12}(?![0-9])", "ACCOUNT", text)
    data = json.loads(re.sub(r"AROA[0-9A-Z]{17}", "ROLE", text))  # the role's id in it
    for stage in data["stages"]:
        del stage["seconds"]
        stage["diagnostics"].sort(key=lambda d: json.dumps(d, sort_keys=True))
    if data["plan"] is not None:
        text = re.sub(r'"snap-[0-9a-f]+"', '"snap-"', json.dumps(data["plan"]))
        data["plan"] = {k: v for k, v in json.loads(text).items() if k != "timestamp"}
        data["plan"].get("relevant_attributes", []).sort(key=json.dumps)
    return data


@pytest.fixture(scope="module")
def verified():
    """name → (batched certificate, one-by-one certificate, recorded commands)."""
    names = NAMES + list(MADE)
    candidates = [MADE.get(n) or from_path(FIXTURES / "candidates" / n) for n in names]
    intents = [_intent(n) for n in names]
    verifier = Verifier()
    jobs = batch.jobs_for(verifier, candidates, intents)
    recordings = batch.record(verifier, jobs)
    replaying = batch.replaying_verifier(verifier, recordings)
    batched = [replaying.verify(c, i) for c, i in zip(candidates, intents, strict=True)]
    with ThreadPoolExecutor(3) as pool:  # terraform waits on moto and disk; 3 keep 2 cores busy
        alone = list(pool.map(verifier.verify, candidates, intents))
    commands = {names[p]: set(recordings.get(key, {})) for key, job in jobs.items()
                for p in job.positions}
    return {n: (b, a, commands.get(n, set()))
            for n, b, a in zip(names, batched, alone, strict=True)}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES + list(MADE))
def test_batched_certificate_equals_the_one_by_one_certificate(verified, name):
    batched, alone, _ = verified[name]
    assert comparable(batched) == comparable(alone)


@pytest.mark.slow
def test_the_corpus_fails_at_every_stage(verified):
    statuses = {(s.stage, s.status) for _, alone, _ in verified.values() for s in alone.stages}
    for stage in ("extract", "parse", "validate", "plan", "intent"):
        assert (stage, "fail") in statuses
        assert (stage, "pass") in statuses
    assert ("validate", "error") in statuses


@pytest.mark.slow
def test_terraform_ran_batched_for_all_but_the_candidates_a_batch_cannot_stand_for(verified):
    expected = {"pass": {VALIDATE, PLAN, SHOW}, "fail_plan": {VALIDATE, PLAN},
                "fail_validate": {VALIDATE}, "doubt_at_plan": {VALIDATE}}
    for name, (_, _, commands) in verified.items():
        kind = next((k for k in expected if name.startswith(k)), None)
        assert commands == expected.get(kind, set()), name


def test_split_plan_gives_each_candidate_the_plan_it_has_alone():
    """plans/batch.json is `terraform show -json` of these candidates batched in this order;
    plans/<name>.json is each one's own plan (both made by terraform 1.11 / aws 5.100)."""
    names = ["pass_s3_versioning_hoisted_region", "pass_data_sources",
             "pass_check_block_warning", "pass_provider_alias"]
    members = []
    for index, name in enumerate(names):
        files = from_path(FIXTURES / "candidates" / name).files
        members.append(make_member(index, files, parse_files(files).model))
    layout = Layout({m.index: m for m in members})
    batched = json.loads((FIXTURES / "plans" / "batch.json").read_text())
    for index, name in enumerate(names):
        alone = json.loads((FIXTURES / "plans" / f"{name}.json").read_text())
        split = split_plan(batched, layout, index)
        for plan in (alone, split):
            del plan["timestamp"]
            plan.get("relevant_attributes", []).sort(key=json.dumps)
        assert split == alone, name
        assert list(split) == list(alone), name


def _layout(tmp_path: Path) -> Layout:
    """Members 0 and 1 share one hoisted provider block (at lines 3 and 1); 2 has none."""
    block = 'provider "aws" {\n  region = "us-east-1"\n}\n'
    texts = ('resource "aws_sns_topic" "t" {}\n\n' + block, block,
             'resource "aws_sqs_queue" "q" {}\n')
    members = [make_member(i, {"main.tf": t}, parse_files({"main.tf": t}).model)
               for i, t in enumerate(texts)]
    layout = Layout({m.index: m for m in members})
    layout.write_children(tmp_path)
    layout.write_root(tmp_path, {0, 1, 2}, validating=True)
    return layout


def _diag(filename: str = "", line: int = 1, **fields: Any) -> dict[str, Any]:
    diag = {"severity": "error", "summary": "Unsupported argument", "detail": "", **fields}
    if filename:
        diag["range"] = {"filename": filename, "start": {"line": line, "column": 3, "byte": 20},
                         "end": {"line": line, "column": 8, "byte": 25}}
    return diag


def test_a_diagnostic_in_a_candidate_directory_is_rewritten_as_its_own(tmp_path):
    layout = _layout(tmp_path)
    diag = _diag("iacforge_c2/main.tf", address="module.iacforge_c2.aws_sqs_queue.q",
                 detail='A managed resource "aws_x" "y" has not been declared in '
                        "module.iacforge_c2.")
    found = attribute(diag, layout, {0, 1, 2})
    assert found.kind == "members" and list(found.members) == [2]
    rewritten = found.members[2]
    assert rewritten["range"]["filename"] == "main.tf"
    assert rewritten["address"] == "aws_sqs_queue.q"
    assert rewritten["detail"].endswith("has not been declared in the root module.")


def test_a_diagnostic_in_a_hoisted_provider_block_goes_to_every_candidate_sharing_it(tmp_path):
    layout = _layout(tmp_path)
    assert layout.group_of(0) == layout.group_of(1) == 0 and layout.group_of(2) is None
    found = attribute(_diag("iacforge_p0/provider.tf", line=2,
                            address='module.iacforge_p0.provider["registry.terraform.io/'
                                    'hashicorp/aws"]'), layout, {0, 1, 2})
    lines = {i: (d["range"]["filename"], d["range"]["start"]["line"], d["address"])
             for i, d in found.members.items()}
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    assert lines == {0: ("main.tf", 4, provider), 1: ("main.tf", 2, provider)}
    assert found.members[0]["range"]["start"]["byte"] == 20 + 33  # the block starts at 33


def test_batch_artefacts_are_dropped_flagged_or_doubted(tmp_path):
    layout = _layout(tmp_path)
    active = {0, 1, 2}
    assert attribute(_diag(summary="Redundant empty provider block"), layout, active).kind \
        == "dropped"
    sentinel = _diag(ROOT_FILE, line=layout.sentinel[0] + 1, summary="Unsupported attribute")
    assert attribute(sentinel, layout, active).kind == "walked"
    call = layout.member_at(ROOT_FILE, layout.lines[ROOT_FILE][0][0])
    on_call = attribute(_diag(ROOT_FILE, line=layout.lines[ROOT_FILE][0][0]), layout, active)
    assert on_call.members == {call: None}
    assert attribute(_diag(summary="Failed to load plugin schemas"), layout, active).kind \
        == "unknown"
    leftover = _diag("iacforge_c2/main.tf", detail="see iacforge_p0/provider.tf:1")
    assert attribute(leftover, layout, active).members == {2: None}


def test_replay_answers_only_for_the_exact_files_and_arguments(tmp_path):
    calls = []

    def runner(argv, *, cwd, env, timeout, stdin=None):
        calls.append(tuple(argv[1:]))
        return ProcessResult(tuple(argv), 0, "ran", "", 0.0)

    (tmp_path / "main.tf").write_text("locals {}\n")
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform.lock.hcl").write_text("# added by iacforge\n")
    recorded = ProcessResult(VALIDATE, 0, "recorded", "", 0.0)
    replay = batch.Replay({batch.workspace_key(tmp_path): {VALIDATE: recorded}}, runner)
    assert replay(["terraform", *VALIDATE], cwd=tmp_path, env={}, timeout=1) is recorded
    assert replay(["terraform", *PLAN], cwd=tmp_path, env={}, timeout=1).stdout == "ran"
    (tmp_path / "extra.tf").write_text("locals {}\n")
    assert replay(["terraform", *VALIDATE], cwd=tmp_path, env={}, timeout=1).stdout == "ran"
    assert calls == [PLAN, VALIDATE]


@pytest.mark.parametrize("files", [
    {"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf": "locals {}\n"},
    {"main.tf": 'variable "required" {}\n'},
    {"main.tf": 'variable "v" {\n  default = 1\n  validation {\n    condition = var.v > 0\n'
                '    error_message = "positive"\n  }\n}\n'},
    {"main.tf": 'output "o" {\n  value = "${path.module}/x"\n}\n'},
    {"main.tf": 'moved {\n  from = aws_sqs_queue.a\n  to   = aws_sqs_queue.b\n}\n'},
    {"main.tf": 'output "o" {\n  value     = 1\n  sensitive = local.secret\n}\n'},
    {"main.tf": "locals {}\n", "override.tf": "locals {}\n"},
    {"main.tf": "locals {}\n", "terraform.tfvars": "x = 1\n"},
    {"main.tf": 'data "terraform_remote_state" "s" {\n  backend = "local"\n}\n'},
    {"main.tf": 'variable "s" {\n  default   = "x"\n  sensitive = true\n}\n\n'
                'locals {\n  wrapped = { s = var.s }\n}\n\n'
                'output "o" {\n  value = local.wrapped\n}\n'},
    {"main.tf": 'output "o" {\n  value = sensitive("x")\n}\n'},
], ids=["module", "required-variable", "variable-validation", "path", "moved",
        "expression-sensitive", "override", "tfvars", "remote-state", "sensitive-variable-output",
        "sensitive-call-output"])
def test_candidates_a_child_module_cannot_stand_for_go_one_by_one(files):
    assert batch.jobs_for(Verifier(), [Candidate(files)], [None]) == {}


def test_outputs_marked_sensitive_or_of_plain_values_can_be_batched():
    files = {"main.tf": 'variable "s" {\n  default   = "x"\n  sensitive = true\n}\n\n'
                        'output "secret" {\n  value     = var.s\n  sensitive = true\n}\n\n'
                        'output "plain" {\n  value = nonsensitive("y")\n}\n'}
    assert len(batch.jobs_for(Verifier(), [Candidate(files)], [None])) == 1


def test_identical_candidates_make_one_job_that_plans_if_either_needs_it():
    files = {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'}
    verifier = Verifier(stages=["validate"])
    jobs = batch.jobs_for(verifier, [Candidate(files), Candidate(dict(files))], [None, None])
    assert [(job.positions, job.plan) for job in jobs.values()] == [((0, 1), False)]
    assert isinstance(next(iter(jobs.values())), batch.Job)
