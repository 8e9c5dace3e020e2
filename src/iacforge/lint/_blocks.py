"""Small readers over parsed blocks that several lint rules share."""

from __future__ import annotations

from iacforge.hcl.model import Block, TerraformModel
from iacforge.hcl.outline import SourceBlock, outline


def source_block(model: TerraformModel, block: Block) -> SourceBlock | None:
    """The outline of `block` in its file's text (None for `.tf.json` files)."""
    text = model.files.get(block.file)
    if text is None or not block.file.endswith(".tf"):
        return None
    return next(
        (
            b for b in outline(text).blocks
            if b.kind == block.kind and b.labels == block.labels
            and block.start_line in (None, b.start)
        ),
        None,
    )


def block_line(model: TerraformModel, block: Block) -> int | None:
    """The first line of `block`, from the parser when it knows, else from the source text."""
    if block.start_line is not None:
        return block.start_line
    found = source_block(model, block)
    return found.start if found else None
