"""`reject` mode: a sample stops at its first forbidden token, the prefix trie learns it, and
later draws are weighted by what is left of each explored prefix."""

from __future__ import annotations

import pytest
import torch

from iacforge.constrain.grammar import grammar_for
from iacforge.constrain.rejection import Explored
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.prompts import generation_prompt

PROMPT = "An SQS queue named jobs."


def test_theta_is_the_mass_not_known_to_fail():
    root = Explored()
    a, b = root.child(1, 0.5), root.child(2, 0.3)
    a.child(7, 0.4).reject()
    assert a.theta == pytest.approx(0.6)
    assert root.theta == pytest.approx(1 - 0.5 * 0.4)
    b.reject()
    assert root.theta == pytest.approx(1 - 0.5 * 0.4 - 0.3)


def feed(processor, tokenizer, tokens: list[int]) -> torch.Tensor:
    ids = torch.tensor([[0]])
    scores = processor(ids, torch.zeros(1, len(tokenizer)))
    for token in tokens:
        processor.weights(ids, scores)
        ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
        scores = processor(ids, torch.zeros(1, len(tokenizer)))
    return scores


def test_a_forbidden_token_rejects_the_sample_and_is_never_drawn_again(constraint, tokenizer):
    root = Explored()
    grammar = grammar_for("schema", PROMPT)
    bad = '```hcl main.tf\nresource "aws_sqs_queue" "q" {\n  duration'
    processor = constraint.processor([grammar], references=True, explored=[root],
                                     eos_token_id=tokenizer.eos_token_id)
    *path, failed = tokenizer(bad, add_special_tokens=False)["input_ids"]
    scores = feed(processor, tokenizer, [*path, failed])
    assert processor.rejected == [True]
    # the rejected row may only end
    assert torch.isfinite(scores[0]).nonzero().flatten().tolist() == [tokenizer.eos_token_id]
    node = root
    for token in path:
        node = node.children[token]
    assert node.children[failed].theta == 0 and 0 < node.theta < 1
    # a fresh try is not masked, but the weights rule out the token that failed
    again = constraint.processor([grammar], references=True, explored=[root],
                                 eos_token_id=tokenizer.eos_token_id)
    scores = feed(again, tokenizer, path)
    assert again.rejected == [False] and torch.isfinite(scores).all()
    weighted = again.weights(torch.tensor([[0]]), scores.clone())
    assert weighted[0, failed] == float("-inf") and torch.isfinite(weighted[0, 0])


@pytest.mark.slow
def test_rejection_sampling_of_the_real_model_keeps_to_the_grammar(constraint):
    backend = load_backend("embedded", BackendOptions(batch_size=8))
    grammar = grammar_for("schema", PROMPT)
    replies = backend.generate([generation_prompt(PROMPT)], 8, Sampling(
        max_new_tokens=24, temperature=0.7, seed=1, constrain="schema",
        constrain_mode="reject"))[0]
    assert backend.rejections + backend.masked > 0  # the embedded model does stray
    for reply in replies:
        assert constraint.accepts(reply, grammar, prefix=True) is None, reply
