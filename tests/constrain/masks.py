"""What a grammar processor leaves possible after a prefix: the tests' window on the mask."""

from __future__ import annotations

import torch

from iacforge.constrain.grammar import grammar_for


def allowed_after(constraint, tokenizer, prefix: str, mode: str = "schema", *, prompt: str,
                  references: bool | None = None, max_new_tokens: int | None = None) -> set[str]:
    """The decoded tokens left possible after `prefix` (fed one token a call) under the grammar
    of `prompt` in `mode`, with the reference guard in `schema` mode unless `references`, and
    the budget guard of a `max_new_tokens` reply when given."""
    guarded = mode == "schema" if references is None else references
    processor = constraint.processor([grammar_for(mode, prompt)], references=guarded,
                                     max_new_tokens=max_new_tokens)
    ids = torch.tensor([[0]])
    processor(ids, torch.zeros(1, len(tokenizer)))
    for token in tokenizer(prefix, add_special_tokens=False)["input_ids"]:
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
        scores = processor(ids, torch.zeros(1, len(tokenizer)))
    return {tokenizer.decode([t]) for t in torch.isfinite(scores[0]).nonzero().flatten().tolist()}
