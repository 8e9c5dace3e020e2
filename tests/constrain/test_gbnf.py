"""The GBNF written for llama.cpp servers means what the Lark grammar means: read back by
llguidance's GBNF reader, and enforced by a real llama.cpp server on the embedded model."""

from __future__ import annotations

import pytest
from llguidance.gbnf_to_lark import gbnf_to_lark

from iacforge.constrain.gbnf import to_gbnf
from iacforge.constrain.grammar import grammar_for, syntax_grammar
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.prompts import generation_prompt

from .test_grammar import GOOD, PROMPT, reply

CASES = [
    ('resource "aws_s3_blob" "b" {\n}\n', 'resource "aws_s3_bucket" "b" {\n}\n'),
    ('resource "aws_sqs_queue" "q" {\n  duration = 60\n}\n',
     'resource "aws_sqs_queue" "q" {\n  delay_seconds = 60\n}\n'),
    ('resource "aws_sqs_queue" "q" {\n  name = ["a"]\n}\n',
     'resource "aws_sqs_queue" "q" {\n  name = "a"\n}\n'),
    ('module "m" {\n  source = "git::https://x/y"\n}\n', 'module "m" {\n  source = "../y"\n}\n'),
    ('resource "aws_s3_bucket_versioning" "v" {\n  versioning_configuration {\n'
     '    status = "Enabled"\n  }\n}\n',
     'resource "aws_s3_bucket_versioning" "v" {\n  bucket = "b"\n  versioning_configuration {\n'
     '    status = "Enabled"\n  }\n}\n'),
]


def accepts(constraint, gbnf: str, text: str) -> bool:
    matcher = constraint._llg.LLMatcher(constraint.tokenizer, gbnf_to_lark(gbnf), log_level=0)
    return matcher.consume_tokens(constraint.tokenizer.tokenize_str(text)) and \
        matcher.is_accepting()


@pytest.fixture(scope="module")
def schema_gbnf() -> str:
    return to_gbnf(grammar_for("schema", PROMPT))


def test_the_schema_gbnf_accepts_a_real_configuration_and_rejects_each_error(constraint,
                                                                             schema_gbnf):
    assert "&" not in schema_gbnf.replace('"&', "").replace("&&", "")
    assert accepts(constraint, schema_gbnf, reply(GOOD))
    for bad, good in CASES:
        assert accepts(constraint, schema_gbnf, reply(good)), good
        assert not accepts(constraint, schema_gbnf, reply(bad)), bad


def test_the_syntax_gbnf_accepts_any_hcl(constraint):
    gbnf = to_gbnf(syntax_grammar())
    assert accepts(constraint, gbnf, reply(GOOD))
    assert accepts(constraint, gbnf, reply('resource "aws_s3_blob" "b" {\n  x = 1\n}\n'))
    assert not accepts(constraint, gbnf, reply('resource "a" "b" {\n  x = 1\n'))


def test_a_name_minus_words_is_exact(constraint):
    gbnf = to_gbnf('start: "=" ROOT\nROOT: /[a-z_][a-z0-9_-]*/ & ~("true" | "tr")\n')
    for name, ok in [("true", False), ("tr", False), ("t", True), ("tru", True),
                     ("truex", True), ("x-1", True), ("1x", False)]:
        assert accepts(constraint, gbnf, "=" + name) is ok, name


def test_a_bounded_name_minus_words_keeps_its_bound(constraint):
    gbnf = to_gbnf('start: "=" ROOT\nROOT: /[a-z_][a-z0-9_-]{0,4}/ & ~("true" | "tr")\n')
    for name, ok in [("true", False), ("tr", False), ("t", True), ("truex", True),
                     ("truexy", False), ("abcde", True), ("abcdef", False)]:
        assert accepts(constraint, gbnf, "=" + name) is ok, name


def test_what_gbnf_cannot_say_is_refused():
    with pytest.raises(ValueError, match="quantifier"):
        to_gbnf("start: A\nA: /a{,2}/\n")  # GBNF has `{m,n}` and `{m,}`, not `{,n}`
    with pytest.raises(ValueError, match="quantifier"):
        to_gbnf("start: A\nA: /*a/\n")


def test_a_bounded_repetition_is_written_as_is():
    assert "A ::= (\"a\"{2,5})" in to_gbnf("start: A\nA: /a{2,5}/\n")


@pytest.mark.slow
def test_a_llama_cpp_server_keeps_the_embedded_model_to_the_schema(constraint):
    import xllamacpp

    from iacforge.llm.embedded import embedded_gguf

    params = xllamacpp.CommonParams()
    params.model.path = str(embedded_gguf())
    params.n_ctx, params.n_parallel, params.verbosity = 2048, 4, 0
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = 1
    params.hostnames, params.port = ["127.0.0.1"], 0
    server = xllamacpp.Server(params)
    assert server.listening_address.startswith("http://127.0.0.1:")
    backend = load_backend("openai:smollm2", BackendOptions(
        base_url=server.listening_address + "/v1", server="llama.cpp", concurrency=1))
    replies = backend.generate([generation_prompt(PROMPT)], 4, Sampling(
        max_new_tokens=48, temperature=1.0, seed=0, constrain="schema"))[0]
    grammar = grammar_for("schema", PROMPT)
    for text in replies:
        # every reply is a prefix of one the (Lark) grammar accepts
        assert constraint.accepts(text, grammar, prefix=True) is None, text
    del server
