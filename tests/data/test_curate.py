"""Curation: a broken module is repaired through the certificate-fed loop, described, and given
a symbolic intent; with the embedded model it is repaired or the reason is recorded."""

from __future__ import annotations

import json

import pytest

from iacforge.data.curate import Curator
from iacforge.data.ingest import Module
from iacforge.llm import ScriptedBackend
from iacforge.llm.base import Sampling
from iacforge.verify.intent_policy import IntentPolicy

BROKEN = Module(id="ingest-broken", tree="/src/repo", path="queues", commit="abc123", files={
    "main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\n\n'
               'resource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n'
               '  visiblity_timeout_seconds = 60\n}\n'})
FIXED = ('```hcl main.tf\nprovider "aws" {\n  region = "us-east-1"\n}\n\n'
         'resource "aws_sqs_queue" "jobs" {\n  name                       = "jobs"\n'
         '  visibility_timeout_seconds = 60\n}\n```')
DESCRIPTION = "Create an SQS queue called jobs whose visibility timeout is sixty seconds."


@pytest.mark.slow
def test_a_broken_module_is_repaired_described_and_given_an_intent_scripted_backend(tmp_path):
    backend = ScriptedBackend([FIXED, DESCRIPTION])
    curator = Curator(tmp_path, backend, turns=3)
    (outcome,) = curator.run([BROKEN])
    assert (outcome.status, outcome.turns, outcome.prompt_by) == ("repaired", 1, "llm")
    first_prompt = backend.prompts[0][-1]["content"]
    assert "visiblity_timeout_seconds" in first_prompt  # the certificate's feedback
    task = json.loads((tmp_path / "tasks.jsonl").read_text())
    assert task["prompt"] == DESCRIPTION and task["resources"] == ["aws_sqs_queue"]
    assert "r.values.visibility_timeout_seconds == 60" in task["intent"]
    log = json.loads((tmp_path / "curation.jsonl").read_text())
    assert (log["commit"], log["path"], log["status"]) == ("abc123", "queues", "repaired")
    assert list(curator.run([BROKEN])) == []  # resumed: already curated
    assert IntentPolicy(task["intent"]).top_rule == "is_valid"


@pytest.mark.slow
def test_the_embedded_model_repairs_the_module_or_the_reason_is_recorded(tmp_path):
    from iacforge.llm.registry import load_backend

    backend = load_backend("embedded")
    # A short reply budget keeps this test under a minute on 2 busy cores (the 135M model
    # makes ~1 token/s there with this prompt); `iacforge data curate` gives it 1024
    # tokens and 5 turns.
    curator = Curator(tmp_path, backend, turns=2,
                      sampling=Sampling(max_new_tokens=16, temperature=0.0))
    (outcome,) = curator.run([BROKEN])
    log = json.loads((tmp_path / "curation.jsonl").read_text())
    assert log["status"] == outcome.status
    if outcome.status == "repaired":
        assert (tmp_path / "tasks.jsonl").is_file()
    else:
        assert outcome.status == "unrepaired" and outcome.turns == 2
        assert outcome.reason.split(" ")[0] in ("extract", "parse", "screen", "validate",
                                                "plan")
