"""Decoding under the provider schema: what cannot validate is not sampled.

`grammar_for(mode, prompt)` gives the grammar (llguidance Lark) of a reply in a mode:
`schema` (HCL whose blocks, types and arguments the mirrored provider has), `syntax` (any HCL)
or `none`. `Constraint` turns grammars into a transformers logits processor (with the
reference guard of `references` in `schema` mode, and `rejection`'s low-distortion mode);
`to_gbnf` writes one for a llama.cpp server; the OpenAI backend sends it to vLLM as a
structured output.
"""

from iacforge.constrain.gbnf import to_gbnf
from iacforge.constrain.grammar import (
    MODES,
    Mode,
    grammar_for,
    prompt_grammar,
    schema_grammar,
    syntax_grammar,
)
from iacforge.constrain.types import likely_types

__all__ = ["MODES", "Mode", "grammar_for", "likely_types", "prompt_grammar", "schema_grammar",
           "syntax_grammar", "to_gbnf"]
