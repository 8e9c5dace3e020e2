"""Tasks as SFT and GRPO examples, and the packing figures of a packed dataset."""

from __future__ import annotations

import json

import pytest

from iacforge.data.task import Task
from iacforge.prompts import generation_prompt, mutation_prompt
from iacforge.train.data import answer_of, grpo_example, sft_example
from iacforge.train.packing import packing_stats

BEFORE = {"main.tf": 'resource "aws_sqs_queue" "q" {}\n', "vars.tf": 'variable "x" {}\n'}
AFTER = {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "jobs"\n}\n',
         "vars.tf": BEFORE["vars.tf"]}


def test_a_generation_example_is_the_loops_prompt_and_the_fenced_reference():
    task = Task("g", "generate", "An SQS queue.", reference={"main.tf": "locals {}"})
    row = sft_example(task)
    assert row["prompt"] == generation_prompt("An SQS queue.")
    assert row["completion"] == [{"role": "assistant",
                                  "content": "```hcl main.tf\nlocals {}\n```"}]


def test_a_mutation_answer_holds_only_the_files_the_reference_changes():
    task = Task("m", "mutate", "Name the queue jobs.", files=BEFORE, reference=AFTER)
    row = sft_example(task)
    assert row["prompt"] == mutation_prompt(BEFORE, "Name the queue jobs.")
    assert answer_of(task) == "```hcl main.tf\n" + AFTER["main.tf"] + "```"


def test_a_grpo_row_carries_what_the_reward_needs_with_the_same_types_on_every_row():
    plain = grpo_example(Task("g", "generate", "A queue."))
    mutate = grpo_example(Task("m", "mutate", "Name it.", files=BEFORE, intent="package x"))
    assert (plain["intent"], plain["files"]) == ("", "{}")
    assert mutate["intent"] == "package x" and json.loads(mutate["files"]) == BEFORE


def test_packing_figures_come_from_the_packed_rows():
    datasets = pytest.importorskip("datasets")
    # documents of 5, 2 and 12 tokens in rows of 8: the 12 is cut to 8, the 5 and 2 share a row
    packed = datasets.Dataset.from_list([
        {"input_ids": list(range(8)), "labels": [-100] * 4 + [1] * 4},
        {"input_ids": list(range(5 + 2)), "labels": [-100] * 3 + [1] * 4},
    ])
    stats = packing_stats(packed, [5, 2, 12], max_length=8)
    assert stats.truncated_documents == 1 and stats.rows == 2
    assert stats.packed_tokens == 15 and stats.document_tokens == 19
    assert stats.real_token_share == pytest.approx(15 / 16)
    assert stats.padded_real_token_share == pytest.approx((5 + 2 + 8) / (3 * 8))
    assert stats.loss_token_share == pytest.approx(8 / 15)
