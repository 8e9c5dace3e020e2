"""Grammar-constrained sampling for transformers: a logits processor over llguidance matchers.

>>> import transformers                                                    # doctest: +SKIP
>>> constraint = Constraint(transformers.AutoTokenizer.from_pretrained(path))  # doctest: +SKIP
>>> processor = constraint.processor([syntax_grammar()])                   # doctest: +SKIP
>>> model.generate(**inputs, logits_processor=[processor])                 # doctest: +SKIP
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from iacforge.constrain.budget import Budget
from iacforge.constrain.lexer import Lexer
from iacforge.constrain.lines import Lines
from iacforge.constrain.references import References
from iacforge.constrain.rejection import Explored, ThetaWeights
from iacforge.constrain.repetition import Repetition
from iacforge.constrain.vocab import Vocabulary
from iacforge.errors import SetupError


def _llguidance() -> Any:
    try:
        import llguidance
        import llguidance.hf
    except ImportError:
        raise SetupError("constrained decoding needs llguidance: pip install 'iacforge[llm]' "
                         "(or use --constrain none)") from None
    return llguidance


class Constraint:
    """Compiles grammars for one tokenizer; makes a processor for a batch of them.

    Args:
        tokenizer: a fast Hugging Face tokenizer (the model's).
    """

    def __init__(self, tokenizer: Any) -> None:
        self._llg = _llguidance()
        self.tokenizer = self._llg.hf.from_tokenizer(tokenizer)
        self._special = set(tokenizer.all_special_ids)

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        """The text of each token, as the guards read it."""
        return Vocabulary(["" if i in self._special
                           else self.tokenizer.decode_bytes([i]).decode("utf-8", "replace")
                           for i in range(self.tokenizer.vocab_size)])

    @functools.cached_property
    def references(self) -> References:
        """The reference guard for this tokenizer and the mirrored provider's schema."""
        from iacforge.data.schema import provider_schema

        return References(provider_schema(), self.vocabulary)

    @functools.cached_property
    def lines(self) -> Lines:
        """The line guard for this tokenizer."""
        return Lines(self.vocabulary)

    @functools.cached_property
    def repetition(self) -> Repetition:
        """The repetition guard for this tokenizer (`syntax` mode: every body's keys free)."""
        return Repetition(self.vocabulary)

    @functools.cached_property
    def schema_repetition(self) -> Repetition:
        """The repetition guard that knows the keys of `resource`/`data` bodies (`schema`)."""
        from iacforge.data.schema import provider_schema

        return Repetition(self.vocabulary, provider_schema())

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one Constraint per loaded model)
    def _checked(self, grammar: str) -> str:
        error = self._llg.LLMatcher.validate_grammar(grammar, self.tokenizer)
        if error and not error.startswith("WARNING"):
            raise SetupError(f"the decoding grammar does not compile: {error[:500]}")
        return grammar

    def matcher(self, grammar: str) -> Any:
        """A fresh llguidance matcher of `grammar`."""
        return self._llg.LLMatcher(self.tokenizer, self._checked(grammar), log_level=0)

    def accepts(self, text: str, grammar: str, *, prefix: bool = False) -> str | None:
        """None when `grammar` accepts the whole of `text` (with `prefix`: a text that begins
        with it, as a reply cut by its token budget), else why not."""
        matcher = self.matcher(grammar)
        tokens = self.tokenizer.tokenize_str(text)
        if not matcher.consume_tokens(tokens):
            return matcher.get_error().split("\n")[0][:300]
        if prefix or matcher.is_accepting():
            return None
        return "the text ends before the grammar does"

    def guarded(self, text: str, grammar: str) -> str | None:
        """None when the `schema` processor (`grammar` and every guard) lets `text` through
        token by token, as the model would write it, else the text before the token it masks."""
        import torch

        processor = self.processor([grammar], references=True)
        ids = torch.tensor([[0]])
        scores = processor(ids, torch.zeros(1, self.vocabulary.size))
        for token in self.tokenizer.tokenize_str(text):
            if not torch.isfinite(scores[0, token]):
                before = "".join(self.vocabulary.text(t) for t in ids[0, -20:].tolist()[1:])
                return repr(f"{before}|{self.vocabulary.text(token)}")
            ids = torch.cat([ids, torch.tensor([[token]])], dim=1)
            scores = processor(ids, torch.zeros(1, self.vocabulary.size))
        return None

    @functools.lru_cache(maxsize=8)  # noqa: B019 (one Constraint per loaded model)
    def budget(self, max_new_tokens: int) -> Budget:
        """The budget guard for replies of `max_new_tokens` tokens."""
        return Budget(self.vocabulary, max_new_tokens)

    def processor(self, grammars: list[str | None], references: bool = False,
                  explored: list[Explored | None] | None = None,
                  eos_token_id: int | None = None,
                  max_new_tokens: int | None = None) -> GrammarLogitsProcessor:
        """A processor for one batch, a grammar (or None: unconstrained) for each row, with the
        line and repetition guards (`constrain.lines`, `constrain.repetition`) and, given the
        reply budget `max_new_tokens`, the budget guard (`constrain.budget`).

        Args:
            references: also guard references (`schema` mode): only declared blocks and
                attributes their schema has (see `constrain.references`).
            explored: `reject` mode (see `constrain.rejection`): each row's prefix trie (shared
                by the samples of a prompt); the row is not masked but stopped (with
                `eos_token_id`) at its first token the grammar rejects.
        """
        guards = [self.lines, *([self.schema_repetition, self.references] if references
                                else [self.repetition]),
                  *([self.budget(max_new_tokens)] if max_new_tokens else [])]
        return GrammarLogitsProcessor(
            [None if g is None else self.matcher(g) for g in grammars], self.vocabulary, guards,
            explored, eos_token_id)


class _Row:
    """One row of a batch: its matcher, reference lexer and, in `reject` mode, its prefix."""

    __slots__ = ("allowed", "done", "lexer", "matcher", "node", "probs", "rejected")

    def __init__(self, matcher: Any, lexer: Lexer, node: Explored | None) -> None:
        self.matcher, self.lexer, self.node = matcher, lexer, node
        self.allowed: np.ndarray | None = None
        self.probs: Any = None
        self.done = False
        self.rejected = False


class GrammarLogitsProcessor:
    """Sets the logits of every token its row's grammar forbids next to -inf.

    It reads the tokens sampled since its last call from `input_ids` (rows left-padded, so the
    newest token is the last column), feeds them to the row's matcher, and masks. A row whose
    matcher has stopped (the grammar is complete and end-of-text was sampled) is left alone.
    Each guard (`forbidden(lexer)`: the line, repetition and reference guards) masks more, unless
    that leaves nothing the grammar allows. A `reject` row is not
    masked: its first forbidden token marks it `rejected`, its prefix trie learns it, and it is
    ended; `weights` (last in the processor list) steers later tries away from what failed.
    """

    def __init__(self, matchers: list[Any], vocabulary: Vocabulary, guards: list[Any],
                 explored: list[Explored | None] | None = None,
                 eos_token_id: int | None = None) -> None:
        explored = explored or [None] * len(matchers)
        self.rows = [None if m is None else _Row(m, Lexer(), node)
                     for m, node in zip(matchers, explored, strict=True)]
        self.vocabulary = vocabulary
        self.vocab_size = vocabulary.size
        self.guards = guards
        self.eos_token_id = eos_token_id
        self.weights = ThetaWeights(self.rows)
        self._start: int | None = None
        self.mask_seconds = 0.0
        #: Seconds of `mask_seconds` spent in the guards.
        self.guard_seconds = 0.0

    @property
    def rejected(self) -> list[bool]:
        """Per row: whether a `reject` row was stopped at a forbidden token."""
        return [row is not None and row.rejected for row in self.rows]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import time

        import torch

        begin = time.perf_counter()
        if self._start is None:
            self._start = input_ids.shape[1]
        elif input_ids.shape[1] > self._start:
            for row, token in zip(self.rows, input_ids[:, -1].tolist(), strict=True):
                if row is not None and not row.done:
                    self._consume(row, token)
        for index, row in enumerate(self.rows):
            if row is None:
                continue
            if row.rejected:
                scores[index, :] = float("-inf")
                scores[index, self.eos_token_id] = 0.0
                continue
            if row.done:
                continue
            allowed = np.unpackbits(np.frombuffer(row.matcher.compute_bitmask(), dtype=np.uint8),
                                    bitorder="little")[: self.vocab_size].astype(bool)
            guard = time.perf_counter()
            for forbidden in (g.forbidden(row.lexer) for g in self.guards):
                if forbidden is not None and (allowed & ~forbidden).any():
                    allowed &= ~forbidden
            self.guard_seconds += time.perf_counter() - guard
            if row.node is not None:
                row.allowed = allowed  # checked against the token drawn, at the next call
                continue
            forbid = torch.ones(scores.shape[1], dtype=torch.bool)
            forbid[: len(allowed)] = torch.from_numpy(~allowed)
            scores[index, forbid.to(scores.device)] = float("-inf")
        self.mask_seconds += time.perf_counter() - begin
        return scores

    def _consume(self, row: _Row, token: int) -> None:
        if row.node is not None:
            probability = float(row.probs[token]) if row.probs is not None else 1.0
            row.node = row.node.child(token, probability)
            if row.allowed is not None and not (token < len(row.allowed) and row.allowed[token]):
                row.node.reject()
                row.rejected = row.done = True
                return
        row.matcher.consume_token(token)
        row.done = row.matcher.is_stopped() or row.matcher.is_error()
        row.lexer.feed(self.vocabulary.text(token))


def generate_options(constraint: Constraint | None, grammars: list[str | None], sampling: Any,
                     explored: list[Explored | None] | None = None,
                     eos_token_id: int | None = None) -> tuple[dict[str, Any], Any]:
    """`model.generate` keywords for a batch sampled with `sampling` (a `llm.Sampling`) under
    `grammars`, and the grammar processor (None when no row has a grammar).

    The mask comes before temperature and top-p (or top-p may keep only forbidden tokens), so
    those run as processors after it; in `reject` mode the theta weights run last.
    """
    options: dict[str, Any] = {"do_sample": not sampling.greedy}
    if constraint is None or all(g is None for g in grammars):
        if not sampling.greedy:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p)
        return options, None
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    grammar = constraint.processor(grammars, references=sampling.constrain in (None, "schema"),
                                   explored=explored, eos_token_id=eos_token_id,
                                   max_new_tokens=sampling.max_new_tokens)
    processors: list[Any] = [grammar]
    if not sampling.greedy:
        options.update(temperature=1.0, top_p=1.0, top_k=0)
        processors += [TemperatureLogitsWarper(sampling.temperature),
                       TopPLogitsWarper(sampling.top_p)]
    if explored is not None:
        processors.append(grammar.weights)
    options["logits_processor"] = processors
    return options, grammar
