"""`iacforge train multiturn`: the repair loop as the RL episode, with turn-level credit.

Each step rolls out repair episodes for `prompts_per_step` tasks (`train.episodes`): `group`
first attempts per task, each failed one repaired with its certificate's feedback, up to
`turns` turns. The estimator gives every attempt an advantage (the math is in
`train.advantages`):

- `gtpo`: G independent chains; per-turn reward (format + stage progress, the outcome on the
  last turn), discounted returns (γ), normalised over the group's turns;
- `murphy`: a tree, each failed attempt expanded `branch` times; values backed up from the
  children (`credit` max = MaRS, mean = MeRS), normalised within each sibling group, groups
  with std below `prune_std` pruned.

The loss is the policy gradient of those advantages, token-mean over the replies (each reply
re-tokenized after its prompt), plus `beta` × the k3 estimate of KL to the starting policy
(for LoRA: the same model with the adapter disabled):

    L = −(1/T) Σ_attempts Σ_{t ∈ reply} A · log π(y_t | prompt, y_<t) + β · KL

One gradient step per rollout, so the policy that sampled is the policy that is updated and
no importance ratio is needed.

Why not TRL: GRPOTrainer computes one advantage per completion from groups of
`num_generations` completions of the *same* prompt. Here prompts are made by earlier turns
(feedback on the model's own reply), groups have different sizes (Murphy's pruning) and
advantages come from whole episodes or trees, so neither its reward hook nor `rollout_func`
can express the credit; this small loop uses the same model loading, LoRA and AdamW.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from iacforge.data.loaders import load_tasks
from iacforge.data.task import Task
from iacforge.errors import IacforgeError
from iacforge.llm.base import Constrain, Sampling
from iacforge.train.advantages import Credit, Node, gtpo_advantages, murphy_advantages
from iacforge.train.episodes import Turn, all_nodes, chains, rollout
from iacforge.train.policy import PolicySampler, load_policy
from iacforge.train.rewards import VerifierReward
from iacforge.train.run import RLRun

Estimator = Literal["gtpo", "murphy"]


@dataclass(frozen=True, kw_only=True)
class MultiTurnRun(RLRun):
    """One multi-turn RL run (`group`: first attempts per task)."""

    estimator: Estimator = "gtpo"
    #: Repairs sampled per failed attempt (Murphy; GTPO always 1).
    branch: int = 2
    turns: int = 3
    gamma: float = 0.9
    credit: Credit = "max"
    #: Murphy: prune sibling groups whose value std is below this (None: keep all).
    prune_std: float | None = None
    max_new_tokens: int = 384
    save_steps: int = 5
    #: Decoding constraint of the rollouts (masked): `none` keeps them on-policy; `schema` or
    #: `syntax` trains on the masked policy's draws (their log-probs are the unmasked model's).
    constrain: Constrain = "none"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.estimator not in ("gtpo", "murphy"):
            raise IacforgeError(f"estimator must be gtpo or murphy, not {self.estimator!r}")
        if self.credit not in ("max", "mean"):
            raise IacforgeError(f"credit must be max (MaRS) or mean (MeRS), not {self.credit!r}")
        if self.turns < 1 or self.branch < 1:
            raise IacforgeError("turns and branch must be at least 1")
        if not 0 < self.gamma <= 1:
            raise IacforgeError(f"gamma must be in (0, 1], not {self.gamma}")
        if self.constrain not in ("schema", "syntax", "none"):
            raise IacforgeError(f"constrain must be schema, syntax or none, not "
                                f"{self.constrain!r}")


def credit(run: MultiTurnRun, root_group: list[Node]) -> list[tuple[Turn, float]]:
    """(attempt, advantage) for every attempt of one task's tree that gets a gradient."""
    if run.estimator == "gtpo":
        lines = chains(root_group)
        advs = gtpo_advantages([[n.reward for n in line] for line in lines],
                               [[n.payload.formatted for n in line] for line in lines], run.gamma)
        return [(n.payload, a) for line, adv in zip(lines, advs, strict=True)
                for n, a in zip(line, adv, strict=True)]
    kept = murphy_advantages(root_group, run.credit, run.prune_std)
    return [(n.payload, n.advantage) for n in kept if n.advantage is not None]


def policy_loss(model: Any, tokenizer: Any, items: list[tuple[Turn, float]], *, beta: float,
                max_new_tokens: int) -> tuple[float, int]:
    """Backpropagate the loss of `items` one attempt at a time; (loss value, reply tokens)."""
    import torch

    encoded = [_encode(tokenizer, turn, max_new_tokens) for turn, _ in items]
    total = sum(len(reply) for _, reply in encoded) or 1
    loss_value = 0.0
    for (prompt, reply), (_, advantage) in zip(encoded, items, strict=True):
        if not reply or advantage == 0:
            continue
        ids = torch.tensor([prompt + reply], device=model.device)
        logp = _reply_logprobs(model, ids, len(prompt))
        loss = -(advantage * logp).sum() / total
        if beta > 0 and hasattr(model, "disable_adapter"):
            with torch.no_grad(), model.disable_adapter():
                ref = _reply_logprobs(model, ids, len(prompt))
            delta = ref - logp
            loss = loss + beta * (torch.exp(delta) - delta - 1).sum() / total
        loss.backward()
        loss_value += float(loss.detach())
    return loss_value, total


def run_multiturn(run: MultiTurnRun, tasks: list[Task] | None = None,
                  policy: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Train, save the adapter (or model) to `run.out`, return the summary."""
    import torch

    tasks = (tasks if tasks is not None else load_tasks(run.tasks))[:run.limit]
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer = policy or load_policy(run.model, adapter=run.adapter)
    model, start_step = _trainable(model, run, out)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=run.learning_rate)
    if start_step and (out / "optimizer.pt").is_file():
        optimizer.load_state_dict(torch.load(out / "optimizer.pt"))
    reward = VerifierReward(run.stages, url=run.reward_url, workers=run.workers)
    sampler = PolicySampler(model, tokenizer)
    sampling = Sampling(run.max_new_tokens, run.temperature, 1.0, None, run.constrain)
    order = random.Random(run.seed)
    rows: list[dict[str, Any]] = []
    try:
        for step in range(start_step + 1, run.max_steps + 1):
            batch = order.sample(tasks, min(run.prompts_per_step, len(tasks)))
            rows.append(_step(run, step, batch, model, tokenizer, sampler, reward, optimizer,
                              params, sampling))
            with (out / "steps.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(rows[-1]) + "\n")
            if step % run.save_steps == 0 or step == run.max_steps:
                _save(model, tokenizer, optimizer, out, step)
    finally:
        reward.close()
    summary = {"method": f"multiturn-{run.estimator}", "tasks": len(tasks),
               "run": run.to_json(),
               "steps": rows, "resumed_from_step": start_step}
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _step(run: MultiTurnRun, step: int, batch: list[Task], model: Any, tokenizer: Any,
          sampler: PolicySampler, reward: VerifierReward, optimizer: Any, params: list[Any],
          sampling: Sampling) -> dict[str, Any]:
    import torch

    start = time.monotonic()
    branch = 1 if run.estimator == "gtpo" else run.branch
    device = next(model.parameters()).device.type
    with torch.autocast(device, dtype=torch.bfloat16, enabled=run.bf16):
        trees = rollout(sampler, reward.certificates, batch, group=run.group, branch=branch,
                        turns=run.turns, sampling=sampling)
        counts = reward.take_counts()
        rolled = time.monotonic() - start
        items = [item for tree in trees for item in credit(run, tree)]
        optimizer.zero_grad()
        loss, tokens = policy_loss(model, tokenizer, items, beta=run.beta,
                                   max_new_tokens=run.max_new_tokens)
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    nodes = [n for tree in trees for n in all_nodes(tree)]
    first = [n for tree in trees for n in tree]
    row = {"step": step, "seconds": round(time.monotonic() - start, 2),
           "rollout_seconds": round(rolled, 2), "reward_seconds": round(counts.seconds, 2),
           "attempts": len(nodes), "trained_attempts": len(items), "reply_tokens": tokens,
           "loss": loss, "first_turn_reward": sum(n.reward for n in first) / len(first),
           "solved_tasks": sum(any(n.payload.passed for n in all_nodes(t)) for t in trees),
           "fv1_validate": counts.passed["fv1_validate"], "fv2_plan": counts.passed["fv2_plan"],
           "fv3_intent": counts.passed["fv3_intent"]}
    print(f"step {step}: {row['seconds']:.1f} s, {len(nodes)} attempts, loss {loss:.4f}, "
          f"first-turn reward {row['first_turn_reward']:.2f}, FV-i/ii/iii "
          f"{row['fv1_validate']}/{row['fv2_plan']}/{row['fv3_intent']}", flush=True)
    return row


def _encode(tokenizer: Any, turn: Turn, max_new_tokens: int) -> tuple[list[int], list[int]]:
    text = tokenizer.apply_chat_template(turn.prompt, tokenize=False, add_generation_prompt=True)
    prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    reply = tokenizer(turn.reply, add_special_tokens=False)["input_ids"][:max_new_tokens]
    if len(reply) < max_new_tokens:  # the model stopped on its own: train the stop too
        reply.append(tokenizer.eos_token_id)
    return prompt, reply


def _reply_logprobs(model: Any, ids: Any, prompt_len: int) -> Any:
    logits = model(input_ids=ids).logits[0, prompt_len - 1:-1].float()
    return logits.log_softmax(-1).gather(1, ids[0, prompt_len:, None]).squeeze(1)


def _trainable(model: Any, run: MultiTurnRun, out: Path) -> tuple[Any, int]:
    """The model with its trainable LoRA (unless full fine-tuning), and the step to resume
    after: the weights of `<out>/checkpoint` are loaded when it is there."""
    config = None if run.adapter else run.lora.peft_config()
    if config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, config)
    state = out / "checkpoint" / "state.json"
    if not state.is_file():
        return model, 0
    from safetensors.torch import load_file

    is_peft = hasattr(model, "peft_config")
    weights = load_file(out / "checkpoint" / ("adapter_model.safetensors" if is_peft
                                              else "model.safetensors"))
    if is_peft:
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, weights)
    else:
        model.load_state_dict(weights, strict=False)
    return model, json.loads(state.read_text())["step"]


def _save(model: Any, tokenizer: Any, optimizer: Any, out: Path, step: int) -> None:
    import torch

    checkpoint = out / "checkpoint"
    model.save_pretrained(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    torch.save(optimizer.state_dict(), out / "optimizer.pt")
    (checkpoint / "state.json").write_text(json.dumps({"step": step}) + "\n")
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
