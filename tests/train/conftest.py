"""One loaded embedded model for every trainer test; each test trains its own deep copy."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="session")
def base_policy():
    pytest.importorskip("trl")
    from iacforge.train.policy import load_policy

    return load_policy("embedded")


@pytest.fixture
def policy(base_policy):
    """A fresh (model, tokenizer): LoRA injection changes the model it is given.

    One torch thread while it is used: the tests' sequences are short, and on a shared
    2-core machine two threads spin-wait on each other (a 25-token matmul measured 12× slower).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model, tokenizer = base_policy
    yield copy.deepcopy(model), copy.deepcopy(tokenizer)
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def mini_tasks():
    from iacforge.data.loaders import load_tasks

    return load_tasks(FIXTURES / "iac_eval_mini.csv")
