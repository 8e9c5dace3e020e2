"""What best-fit packing did to a dataset: real-token share, loss-token share, truncations.

TRL's `bfd` strategy truncates every document to `max_length`, then packs documents
best-fit-decreasing into rows of at most `max_length` tokens; with padding-free batches the
only waste is the unused tail of each row. The figures here are computed from the packed
dataset itself (its `input_ids` and `labels` columns) and from the
documents' own token counts before packing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PackingStats:
    """Packing figures for one training set."""

    documents: int
    #: Rows (packed sequences) the documents went into.
    rows: int
    max_length: int
    #: Documents longer than `max_length`, cut by the packer.
    truncated_documents: int
    #: Tokens of the documents before packing, and what the packed rows hold.
    document_tokens: int
    packed_tokens: int
    #: Packed tokens / (rows × max_length): the share of each row that is real text.
    real_token_share: float
    #: The same share had every document been padded to `max_length` instead (no packing).
    padded_real_token_share: float
    #: Tokens the loss is computed on (the answers) / packed tokens.
    loss_token_share: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def packing_stats(packed: Any, document_lengths: Sequence[int], max_length: int) -> PackingStats:
    """Figures for a packed dataset (rows of `input_ids`, `labels`) whose documents
    had `document_lengths` tokens before packing."""
    rows = len(packed)
    packed_tokens = sum(len(ids) for ids in packed["input_ids"])
    if "labels" in packed.column_names:  # TRL's labels: -100 where there is no loss
        loss_tokens = sum(sum(t != -100 for t in row) for row in packed["labels"])
    else:
        loss_tokens = packed_tokens
    kept = [min(n, max_length) for n in document_lengths]
    docs = len(document_lengths)
    return PackingStats(
        documents=docs, rows=rows, max_length=max_length,
        truncated_documents=sum(n > max_length for n in document_lengths),
        document_tokens=sum(document_lengths), packed_tokens=packed_tokens,
        real_token_share=packed_tokens / (rows * max_length) if rows else 0.0,
        padded_real_token_share=sum(kept) / (docs * max_length) if docs else 0.0,
        loss_token_share=loss_tokens / packed_tokens if packed_tokens else 0.0,
    )


def document_lengths(examples: Sequence[dict[str, Any]], tokenizer: Any) -> list[int]:
    """Token counts of prompt-completion chat examples, as the chat template renders them."""
    lengths = []
    for row in examples:
        text = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        lengths.append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    return lengths
