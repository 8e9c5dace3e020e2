"""A few CPU steps of each trainer on the real embedded model, with tiny lengths.

The point is that the recipe runs end to end on the real parts (model, TRL, peft, verifier)
and moves the weights, not that two steps teach a 135M model Terraform.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from iacforge.data.task import Task
from iacforge.train.episodes import Turn
from iacforge.train.grpo import GRPORun, run_grpo
from iacforge.train.multiturn import MultiTurnRun, policy_loss, run_multiturn
from iacforge.train.policy import LoraSettings
from iacforge.train.rewards import VerifierReward
from iacforge.train.sft import SFTRun, run_sft

pytestmark = pytest.mark.slow

TINY_LORA = LoraSettings(rank=4, alpha=8, dropout=0.0)


def fresh_adapter(policy, where: Path) -> tuple[tuple, Path]:
    """`policy` with a new LoRA adapter, saved in `where` as the run's starting adapter (what
    `load_policy(adapter=where)` gives): the snapshot the trained adapter is compared with."""
    from peft import get_peft_model

    model, tokenizer = policy
    model = get_peft_model(model, TINY_LORA.peft_config())
    model.save_pretrained(where)
    return (model, tokenizer), where


def assert_moved(start: Path, out: Path) -> None:
    """Every LoRA B matrix of the trained adapter differs from the one it started from (A
    gets no gradient while B is still zero, at step 1)."""
    import torch
    from safetensors.torch import load_file

    before = load_file(str(start / "adapter_model.safetensors"))
    after = load_file(str(out / "adapter_model.safetensors"))
    assert after.keys() == before.keys()
    b = [n for n in before if "lora_B" in n]
    assert b and all(not torch.equal(before[n], after[n]) for n in b)


def lora_b_norm(model) -> float:
    """LoRA's B matrices start at zero: a non-zero norm means an optimizer step landed."""
    return sum(float(p.detach().abs().sum()) for n, p in model.named_parameters()
               if "lora_B" in n)


SHORT = [Task(f"q{i}", "generate", f"An SQS queue named q{i}.",
              reference={"main.tf": f'resource "aws_sqs_queue" "q" {{\n  name = "q{i}"\n}}\n'})
         for i in range(2)]
#: A short task with an intent policy: the GRPO reward runs FV-iii on it.
INTENT_TASK = Task("q-intent", "generate", "An SQS queue named jobs.",
                   intent=(Path(__file__).parents[2] / "examples" / "intents" /
                           "sqs_visibility.rego").read_text())


def test_sft_packs_trains_on_the_answers_and_saves_an_adapter(policy, mini_tasks, tmp_path):
    from safetensors.torch import load_file

    policy, start = fresh_adapter(policy, tmp_path / "start")
    summary = run_sft(SFTRun(tasks="-", out=tmp_path, adapter=start, max_length=256,
                             batch_size=1, max_steps=2, learning_rate=1e-3, bf16=True),
                      [*mini_tasks[:2], *SHORT], policy=policy)
    # two steps: the first is the scheduler's warm-up step (5 % of the steps, at least one),
    # whose learning rate is 0
    assert_moved(start, tmp_path)
    assert summary["steps"] == 2 and math.isfinite(summary["train_loss"])
    assert summary["train_loss"] > 0
    # the two IaC-Eval documents (~400 tokens) do not fit a 256-token row and are left out
    assert summary["dropped_long_documents"] == 2
    packing = summary["packing"]
    assert packing["documents"] == 2 and packing["truncated_documents"] == 0
    assert packing["packed_tokens"] == packing["document_tokens"]
    assert 0 < packing["loss_token_share"] < 0.5  # the prompt is masked out of the loss
    # bf16 autocast computes in bfloat16; the trained LoRA weights stay float32
    weights = load_file(str(tmp_path / "adapter_model.safetensors"))
    assert weights and {str(t.dtype) for t in weights.values()} == {"torch.float32"}
    assert json.loads((tmp_path / "train_summary.json").read_text())["packing"] == packing


class RecordingReward(VerifierReward):
    """The real verifier reward, remembering what it returned to the trainer.

    Eight tokens never make Terraform, so every completion would earn the same 0 and GRPO's
    advantages (reward less the group's mean) would all be 0: no gradient. A tie-break of
    0.01 × the completion's place in the batch gives the step something to learn from.
    """

    returned: list[float | None]

    def __call__(self, *args, **kwargs):
        out = [None if r is None else r + 0.01 * i
               for i, r in enumerate(super().__call__(*args, **kwargs))]
        self.returned = [*getattr(self, "returned", []), *out]
        return out


def test_grpo_gets_the_verifier_reward_and_logs_stage_counts(policy, tmp_path,
                                                             monkeypatch):
    import iacforge.train.grpo as grpo

    made: list[RecordingReward] = []
    monkeypatch.setattr(grpo, "VerifierReward",
                        lambda *a, **k: made.append(RecordingReward(*a, **k)) or made[-1])
    policy, start = fresh_adapter(policy, tmp_path / "start")
    summary = run_grpo(GRPORun(tasks="-", out=tmp_path, adapter=start, group=2,
                               prompts_per_step=1, max_completion_length=8, max_steps=1,
                               learning_rate=1e-3), [INTENT_TASK], policy=policy)
    assert_moved(start, tmp_path)
    assert summary["steps"] == 1 and all(math.isfinite(x) for x in summary["losses"])
    # the mean reward TRL logged is the mean of what the verifier reward returned
    returned = made[0].returned
    assert len(returned) == 2
    assert summary["rewards"] == [pytest.approx(sum(returned) / 2)]
    [step] = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert step["completions"] == 2 and step["with_intent"] == 2
    assert step["fv3_intent"] <= step["fv2_plan"] <= step["fv1_validate"] <= 2
    assert 0 <= step["reward_wait_share"] <= 1
    assert summary["reward_wait_share"] is not None


@pytest.mark.parametrize("bf16", [False, True])
def test_multiturn_rolls_out_repairs_and_steps(policy, tmp_path, bf16):
    run = MultiTurnRun(tasks="-", out=tmp_path, lora=TINY_LORA, estimator="murphy", group=2,
                       branch=1, turns=2, max_new_tokens=8, max_steps=1, stages=("validate",),
                       bf16=bf16)
    summary = run_multiturn(run, SHORT[:1], policy=policy)
    [step] = summary["steps"]
    # 8 tokens never make valid Terraform: every first attempt is repaired once
    assert step["attempts"] == 4 and math.isfinite(step["loss"])
    assert (tmp_path / "adapter_model.safetensors").is_file()


def test_the_policy_loss_gives_the_adapter_a_gradient(policy):
    from peft import get_peft_model

    model, tokenizer = policy
    model = get_peft_model(model, TINY_LORA.peft_config())
    prompt = [{"role": "user", "content": "Write Terraform."}]
    turns = [Turn(SHORT[0], 1, prompt, text, None, True)  # type: ignore[arg-type]
             for text in ("locals {}", "nothing")]
    assert lora_b_norm(model) == 0
    loss, tokens = policy_loss(model, tokenizer, list(zip(turns, [1.0, -1.0], strict=True)),
                               beta=0.1, max_new_tokens=16)
    assert math.isfinite(loss) and tokens > 0
    grads = [p.grad for n, p in model.named_parameters() if "lora_B" in n]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)
