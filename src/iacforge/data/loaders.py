"""Load tasks: IaC-Eval's CSV, the project's JSONL/Parquet, or a Hugging Face dataset folder.

| input | read as |
| --- | --- |
| `*.csv` | IaC-Eval (`Resource, Prompt, Rego intent, Difficulty, Reference output, Intent`) |
| `*.jsonl` | task records (`Task.to_record`), one JSON object a line |
| `*.parquet`, `*.arrow` | IaC-Eval or task records, told apart by their columns (needs pyarrow) |
| a folder | every such file under it (a `save_to_disk` folder, a dataset snapshot) |

`split` keeps a folder's files of one split (`test/…`, `test-00000-of-00001.parquet`).
Parquet and Arrow are read with pyarrow, so `datasets` itself is never needed. IaC-Eval rows get
ids from a hash of their prompt, intent and reference, so the same task has the same id
whichever file format or row order it comes in. Every problem fails loudly with the file and
row it is in.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from iacforge.data.task import COLUMNS, Task
from iacforge.errors import IacforgeError
from iacforge.hcl.extract import from_text

#: IaC-Eval's columns, as its CSV and its Hugging Face dataset name them.
IAC_EVAL_COLUMNS: tuple[str, ...] = ("Resource", "Prompt", "Rego intent", "Difficulty",
                                     "Reference output", "Intent")
_SUFFIXES = (".csv", ".jsonl", ".parquet", ".arrow")
_RESOURCE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def load_tasks(path: str | Path, *, split: str | None = None) -> list[Task]:
    """The tasks in a file or dataset folder, in file order; ids must be unique."""
    path = Path(path)
    if not path.exists():
        raise IacforgeError(f"task file {path} does not exist")
    files = _dataset_files(path, split) if path.is_dir() else [path]
    tasks = [task for file in files for task in _load_file(file)]
    if not tasks:
        raise IacforgeError(f"{path} holds no tasks")
    _check_unique(tasks)
    return tasks


def save_tasks(tasks: Iterable[Task], path: str | Path) -> Path:
    """Write tasks as JSONL (`.jsonl`) or Parquet (`.parquet`); returns the path."""
    path = Path(path)
    records = [t.to_record() for t in tasks]
    if path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif path.suffix == ".parquet":
        pa, pq = _pyarrow()
        pq.write_table(pa.Table.from_pylist(records, schema=_task_schema(pa)), path)
    else:
        raise IacforgeError(f"cannot write tasks to {path}: use a .jsonl or .parquet name")
    return path


def iac_eval_task(row: dict[str, Any], source: str) -> Task:
    """One IaC-Eval row as a generation task."""
    missing = [c for c in IAC_EVAL_COLUMNS[:2] if not _text(row.get(c))]
    if missing:
        raise IacforgeError(f"{source}: empty {', '.join(missing)}")
    prompt, intent = _text(row["Prompt"]), _text(row.get("Rego intent")) or None
    reference_text = _text(row.get("Reference output"))
    reference = from_text(reference_text).files if reference_text.strip() else {}
    digest = hashlib.sha256("\0".join((prompt, intent or "", reference_text)).encode())
    return Task(
        id=f"iac-eval-{digest.hexdigest()[:10]}", kind="generate", prompt=prompt, intent=intent,
        reference=reference, difficulty=_difficulty(row.get("Difficulty")),
        resources=tuple(_RESOURCE.findall(_text(row.get("Resource")))), source=source,
        description=_text(row.get("Intent")) or None,
    )


def _load_file(path: Path) -> list[Task]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _from_rows(_csv_rows(path), path)
    if suffix == ".jsonl":
        return _from_rows(_jsonl_rows(path), path)
    if suffix in (".parquet", ".arrow"):
        return _from_rows(_arrow_rows(path), path)
    raise IacforgeError(f"cannot read tasks from {path}: use .csv (IaC-Eval), .jsonl, "
                        ".parquet, .arrow, or a dataset folder")


def _from_rows(rows: Iterator[dict[str, Any]], path: Path) -> list[Task]:
    tasks: list[Task] = []
    for number, row in enumerate(rows, start=1):
        source = f"{path.name}:{number}"
        if "Prompt" in row and "Rego intent" in row:
            tasks.append(iac_eval_task(row, source))
        elif "prompt" in row and "id" in row:
            # columnar formats give every row every column: a null there means "not set"
            given = {k: v for k, v in row.items() if v is not None}
            tasks.append(Task.from_record({"source": source, **given}))
        else:
            raise IacforgeError(f"{source}: neither an IaC-Eval row (columns "
                                f"{', '.join(IAC_EVAL_COLUMNS)}) nor a task record (columns "
                                f"{', '.join(COLUMNS)}); found {', '.join(row)}")
    return tasks


def _csv_rows(path: Path) -> Iterator[dict[str, Any]]:
    csv.field_size_limit(sys.maxsize)  # references and policies exceed the 128 KiB default
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in ("Prompt", "Rego intent") if c not in header]
        if missing:
            raise IacforgeError(f"{path}: not an IaC-Eval CSV, missing column(s) "
                                f"{', '.join(missing)} (expected {', '.join(IAC_EVAL_COLUMNS)})")
        yield from reader


def _jsonl_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise IacforgeError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise IacforgeError(f"{path}:{number}: expected a JSON object")
            yield row


def _arrow_rows(path: Path) -> Iterator[dict[str, Any]]:
    pa, pq = _pyarrow()
    if path.suffix.lower() == ".parquet":
        table = pq.read_table(path)
    else:  # `datasets.save_to_disk` writes Arrow IPC streams
        import pyarrow.ipc as ipc

        try:
            with pa.memory_map(str(path)) as source:
                table = ipc.open_stream(source).read_all()
        except pa.ArrowInvalid:
            with pa.memory_map(str(path)) as source:
                table = ipc.open_file(source).read_all()
    yield from table.to_pylist()


def _dataset_files(root: Path, split: str | None) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in _SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if split is not None:
        files = [p for p in files if _in_split(p.relative_to(root), split)]
    if not files:
        where = f" for split {split!r}" if split else ""
        raise IacforgeError(f"no task files ({', '.join(_SUFFIXES)}) under {root}{where}")
    return files


def _in_split(relative: Path, split: str) -> bool:
    """A dataset file belongs to `split` when a folder is named for it (`test/…`) or its name
    starts with it (`test-00000-of-00001.parquet`)."""
    return split in relative.parts[:-1] or re.match(rf"{re.escape(split)}[-_.]",
                                                     relative.name) is not None


def _check_unique(tasks: list[Task]) -> None:
    seen: dict[str, str] = {}
    for task in tasks:
        if task.id in seen:
            raise IacforgeError(f"task id {task.id} appears twice: {seen[task.id]} and "
                                f"{task.source}")
        seen[task.id] = task.source


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _difficulty(value: Any) -> str | None:
    """A difficulty label; `3.0` (a pandas export of an integer column) reads as `3`."""
    text = _text(value).strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text or None


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise IacforgeError("reading or writing Parquet and Arrow task files needs pyarrow: "
                            "pip install pyarrow (CSV and JSONL need nothing)") from None
    return pa, pq


def _task_schema(pa: Any) -> Any:
    files = pa.list_(pa.struct([("name", pa.string()), ("text", pa.string())]))
    return pa.schema([("id", pa.string()), ("kind", pa.string()), ("prompt", pa.string()),
                      ("files", files), ("intent", pa.string()), ("reference", files),
                      ("difficulty", pa.string()), ("resources", pa.list_(pa.string())),
                      ("source", pa.string()), ("description", pa.string())])
