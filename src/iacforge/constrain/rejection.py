"""Constrained sampling without the mask's skew: adaptive rejection (`--constrain-mode reject`).

Masking renormalises each step over the tokens the grammar allows, so a token that leads only
to unlikely valid continuations is drawn as often as if its whole mass were valid: the text is
skewed away from what the model would write. Masking token by token after an unconstrained draw
("resample on the first violation") is the same distribution, so it is no remedy.

`reject` samples from the model (after temperature and top-p) and stops a sample at its first
token the grammar (or the reference guard) rejects; the sample is drawn again. Every rejection
is remembered in a trie of prefixes shared by all samples of a prompt: each node keeps `theta`,
the share of its mass not yet known to be invalid, and the probabilities of its explored
children; a later draw weights an explored child by its theta. A sample that completes is then
distributed exactly as the model conditioned on the grammar (adaptive rejection sampling), and
each rejection makes the next try likelier to pass. After `TRIES` tries a sample is drawn with
the mask (counted in `masked`).

>>> root = Explored()
>>> root.child(5, 0.25).reject()
>>> round(root.theta, 2)
0.75
"""

from __future__ import annotations

from typing import Any

#: Tries a sample gets before the last is drawn with the mask.
TRIES = 4


class Explored:
    """A prefix of a reply: its unexcluded mass (`theta`) and its explored children."""

    __slots__ = ("children", "parent", "probability", "theta")

    def __init__(self, parent: Explored | None = None, probability: float = 1.0) -> None:
        self.parent = parent
        self.probability = probability  # of this node given its parent, as the model samples
        self.theta = 1.0
        self.children: dict[int, Explored] = {}

    def child(self, token: int, probability: float) -> Explored:
        """The node after `token` (drawn with `probability`), made on first visit."""
        if token not in self.children:
            self.children[token] = Explored(self, probability)
        return self.children[token]

    def reject(self) -> None:
        """This prefix cannot be completed: take its mass out of every ancestor's theta."""
        self.theta = 0.0
        node = self.parent
        while node is not None:
            lost = sum(c.probability * (1.0 - c.theta) for c in node.children.values())
            node.theta = max(0.0, 1.0 - lost)
            node = node.parent


class ThetaWeights:
    """The last logits processor (after temperature and top-p) of a `reject` batch: notes the
    model's probabilities, then weights each explored child by its theta."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows  # each a processor row state with `.node`, `.done`, `.probs`

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        for index, row in enumerate(self.rows):
            if row is None or row.done:
                continue
            row.probs = torch.softmax(scores[index].float(), dim=-1)
            explored = row.node.children
            if not explored:
                continue
            tokens = torch.tensor(list(explored), device=scores.device)
            thetas = torch.tensor([c.theta for c in explored.values()], device=scores.device)
            weighted = scores[index].clone()
            weighted[tokens] += torch.log(thetas).to(scores.dtype)
            if torch.isfinite(weighted).any():
                scores[index] = weighted
        return scores
