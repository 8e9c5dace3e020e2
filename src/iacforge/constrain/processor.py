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

from iacforge.constrain.references import References
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
        self._references: References | None = None

    @property
    def references(self) -> References:
        """The reference guard for this tokenizer and the mirrored provider's schema."""
        if self._references is None:
            from iacforge.data.schema import provider_schema

            texts = ["" if i in self._special
                     else self.tokenizer.decode_bytes([i]).decode("utf-8", "replace")
                     for i in range(self.tokenizer.vocab_size)]
            self._references = References(provider_schema(), texts)
        return self._references

    @functools.lru_cache(maxsize=64)  # noqa: B019 (one Constraint per loaded model)
    def _checked(self, grammar: str) -> str:
        error = self._llg.LLMatcher.validate_grammar(grammar, self.tokenizer)
        if error and not error.startswith("WARNING"):
            raise SetupError(f"the decoding grammar does not compile: {error[:500]}")
        return grammar

    def matcher(self, grammar: str) -> Any:
        """A fresh llguidance matcher of `grammar`."""
        return self._llg.LLMatcher(self.tokenizer, self._checked(grammar), log_level=0)

    def accepts(self, text: str, grammar: str) -> str | None:
        """None when `grammar` accepts the whole of `text`, else why not."""
        matcher = self.matcher(grammar)
        tokens = self.tokenizer.tokenize_str(text)
        if not matcher.consume_tokens(tokens):
            return matcher.get_error().split("\n")[0][:300]
        return None if matcher.is_accepting() else "the text ends before the grammar does"

    def processor(self, grammars: list[str | None],
                  references: bool = False) -> GrammarLogitsProcessor:
        """A processor for one batch, a grammar (or None: unconstrained) for each row.

        Args:
            references: also guard references (`schema` mode): only declared blocks and
                attributes their schema has (see `constrain.references`).
        """
        return GrammarLogitsProcessor(
            [None if g is None else self.matcher(g) for g in grammars], self.tokenizer.vocab_size,
            self.references if references else None)


class GrammarLogitsProcessor:
    """Sets the logits of every token its row's grammar forbids next to -inf.

    It reads the tokens sampled since its last call from `input_ids` (rows left-padded, so the
    newest token is the last column), feeds them to the row's matcher, and masks. A row whose
    matcher has stopped (the grammar is complete and end-of-text was sampled) is left alone.
    With a reference guard, tokens that would name an undeclared block or an attribute its type
    lacks are masked too, unless that leaves nothing the grammar allows.
    """

    def __init__(self, matchers: list[Any], vocab_size: int,
                 references: References | None = None) -> None:
        self.matchers = matchers
        self.vocab_size = vocab_size
        self.references = references
        self.lexers = [references.state() if references and m is not None else None
                       for m in matchers]
        self._start: int | None = None
        self.mask_seconds = 0.0
        #: Seconds of `mask_seconds` spent in the reference guard.
        self.guard_seconds = 0.0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import time

        import torch

        begin = time.perf_counter()
        if self._start is None:
            self._start = input_ids.shape[1]
        elif input_ids.shape[1] > self._start:
            last = input_ids[:, -1].tolist()
            for matcher, lexer, token in zip(self.matchers, self.lexers, last, strict=True):
                if matcher is not None and not matcher.is_stopped():
                    matcher.consume_token(token)
                    if lexer is not None and self.references is not None:
                        lexer.feed(self.references.text(token))
        for row, matcher in enumerate(self.matchers):
            if matcher is None or matcher.is_stopped() or matcher.is_error():
                continue
            allowed = np.unpackbits(np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8),
                                    bitorder="little")[: self.vocab_size].astype(bool)
            lexer = self.lexers[row]
            if lexer is not None and self.references is not None:
                guard = time.perf_counter()
                forbidden = self.references.forbidden(lexer)
                if forbidden is not None and (allowed & ~forbidden).any():
                    allowed &= ~forbidden
                self.guard_seconds += time.perf_counter() - guard
            forbid = torch.ones(scores.shape[1], dtype=torch.bool)
            forbid[: len(allowed)] = torch.from_numpy(~allowed)
            scores[row, forbid.to(scores.device)] = float("-inf")
        self.mask_seconds += time.perf_counter() - begin
        return scores
