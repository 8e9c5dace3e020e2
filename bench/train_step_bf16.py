"""A LoRA training step in bfloat16 autocast against float32 (the baseline), embedded model.

What `--bf16` buys a trainer here: the same packed batch (`--rows` × `--length` tokens, LoRA as
`train sft` makes it) is stepped `--steps` times in each precision after one warm-up step; the
medians are compared. Prints as its last line:
`fp32_s=<median> bf16_s=<median> ratio=<fp32/bf16>`

    OMP_NUM_THREADS=2 .venv/bin/python bench/train_step_bf16.py [--rows 2 --length 1024 --steps 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from peft import get_peft_model

from iacforge.train.policy import LoraSettings, load_policy


def step_seconds(model: torch.nn.Module, ids: torch.Tensor, *, bf16: bool, steps: int) -> float:
    """Median seconds of forward + backward + AdamW step, after one warm-up step."""
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    model, tokenizer = load_policy("embedded")
    model = get_peft_model(model, LoraSettings(rank=16, alpha=32).peft_config())
    ids = torch.randint(0, len(tokenizer), (args.rows, args.length),
                        generator=torch.Generator().manual_seed(0))
    fp32 = step_seconds(model, ids, bf16=False, steps=args.steps)
    bf16 = step_seconds(model, ids, bf16=True, steps=args.steps)
    print(f"fp32_s={fp32:.2f} bf16_s={bf16:.2f} ratio={fp32 / bf16:.2f}")


if __name__ == "__main__":
    main()
