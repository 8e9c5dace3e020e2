"""Turn what a user or a model hands us into a Candidate: LLM text, a .tf file or a directory.

Nothing here raises on bad input. Binary, non-UTF-8, empty, oversize or archive input becomes a
Candidate whose `problems` say what was wrong; the extract stage reports them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from iacforge.candidate import Candidate

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$", re.M)
_HCL_LANGS = {"hcl", "terraform", "tf", "hcl2"}
_JSON_LANGS = {"json", "tf.json"}
_FILENAME = re.compile(r"([\w./-]+\.tf(?:vars)?(?:\.json)?)\b")
_TFVARS = (".tfvars", ".tfvars.json")
_TOP_LEVEL = re.compile(
    r'^\s*(resource|data|provider|variable|output|module|locals|terraform)\b\s*("|\{)', re.M
)
_TF_JSON_KEYS = {
    "resource", "data", "provider", "variable", "output", "module", "locals", "terraform",
}
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")
SOURCE_SUFFIXES = (".tf", ".tf.json")


def from_text(text: str, *, source: str = "text", max_bytes: int = 2_000_000) -> Candidate:
    """Extract the Terraform files of an LLM reply (fenced blocks, or bare HCL)."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return Candidate({}, source, (f"input is larger than {max_bytes} bytes",))
    if not text.strip():
        return Candidate({}, source, ("input is empty",))
    text = text.replace("\r\n", "\n")  # a CRLF closing fence would not close its block
    blocks = _fenced_blocks(text)
    files: dict[str, str] = {}
    for name, body in blocks:
        files[_unique(name, files)] = body
    if not blocks and _is_tf_json(text):
        files["main.tf.json"] = text
    elif not blocks and _TOP_LEVEL.search(text):
        files["main.tf"] = text
    if not files:
        return Candidate({}, source, ("no Terraform code found in the text (prose only?)",))
    return Candidate(files, source)


def from_bytes(data: bytes, *, name: str, source: str, max_bytes: int = 2_000_000) -> Candidate:
    """Decode raw bytes from a file or stdin, refusing binary and archive input clearly."""
    if len(data) > max_bytes:
        # callers read at most max_bytes + 1 bytes, so len(data) is not the input's size
        return Candidate({}, source, (f"{name}: larger than the limit of {max_bytes} bytes",))
    problem = _binary_problem(data)
    if problem:
        return Candidate({}, source, (f"{name}: {problem}",))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Candidate({}, source, (f"{name}: not UTF-8 (bad byte at offset {exc.start})",))
    if name.endswith(SOURCE_SUFFIXES):
        if not text.strip():
            return Candidate({}, source, (f"{name}: file is empty",))
        return Candidate({Path(name).name: text}, source)
    return from_text(text, source=source, max_bytes=max_bytes)


def from_path(path: Path, *, max_bytes: int = 2_000_000) -> Candidate:
    """Load a directory (every .tf / .tf.json below it, .terraform excluded) or a single file."""
    source = str(path)
    if not path.exists():
        return Candidate({}, source, (f"{path}: no such file or directory",))
    if path.is_file():
        return from_bytes(path.read_bytes()[: max_bytes + 1], name=path.name, source=source,
                          max_bytes=max_bytes)
    files: dict[str, str] = {}
    problems: list[str] = []
    total = 0
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path)
        if ".terraform" in rel.parts or not file.name.endswith(SOURCE_SUFFIXES):
            continue
        if file.is_symlink() or not file.is_file():
            problems.append(f"{rel}: not a regular file (symlinks are not followed)")
            continue
        data = file.read_bytes()[: max_bytes + 1]
        total += len(data)
        if total > max_bytes:
            problems.append(f"{path}: candidate is larger than {max_bytes} bytes")
            break
        one = from_bytes(data, name=str(rel), source=source, max_bytes=max_bytes)
        problems += one.problems
        files.update({str(rel): text for text in one.files.values()})
    if not files and not problems:
        problems.append(f"{path}: no .tf or .tf.json files")
    return Candidate(files, source, tuple(problems))


def _binary_problem(data: bytes) -> str | None:
    if data.startswith(_ARCHIVE_MAGIC):
        return "looks like an archive (zip/gzip/bz2/xz/7z); unpack it first"
    if b"\0" in data[:8192]:
        return "binary data (NUL bytes), not Terraform"
    return None


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(file name, body) for every fenced block that holds Terraform."""
    out: list[tuple[str, str]] = []
    pos = 0
    while match := _FENCE.search(text, pos):
        fence, info = match["fence"], match["info"].strip()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = closing.search(text, match.end())
        body = text[match.end() + 1 : end.start() if end else len(text)]
        pos = end.end() if end else len(text)
        name = _block_name(text[: match.start()], info, body)
        if name and body.strip():
            out.append((name, body if body.endswith("\n") else body + "\n"))
    return out


def _block_name(before: str, info: str, body: str) -> str | None:
    """The file name a block should get, or None when it is not Terraform."""
    lang = info.split()[0].lower() if info else ""
    hinted = _name_hint(info, before, body)
    if lang == "tfvars" or (hinted or "").endswith(_TFVARS):
        return None  # variable values, not configuration
    if lang in _JSON_LANGS or (hinted or "").endswith(".tf.json"):
        return (hinted if hinted and hinted.endswith(".tf.json") else "main.tf.json") \
            if _is_tf_json(body) else None
    if lang in _HCL_LANGS or _TOP_LEVEL.search(body):
        return hinted if hinted and hinted.endswith(".tf") else "main.tf"
    return None


def _name_hint(info: str, before: str, body: str) -> str | None:
    """A file name from the fence info, the first comment line, or the line before the fence."""
    first = body.lstrip().split("\n", 1)[0]
    last_line = before.rstrip().rsplit("\n", 1)[-1] if before.strip() else ""
    for where in (info, first if first.startswith(("#", "//", "/*")) else "", last_line):
        match = _FILENAME.search(where)
        if match:
            return Path(match.group(1)).name
    return None


def _is_tf_json(body: str) -> bool:
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return False
    return isinstance(doc, dict) and bool(_TF_JSON_KEYS & doc.keys())


def _unique(name: str, taken: dict[str, str]) -> str:
    if name not in taken:
        return name
    stem, dot, ext = name.partition(".")
    n = 2
    while f"{stem}_{n}{dot}{ext}" in taken:
        n += 1
    return f"{stem}_{n}{dot}{ext}"
