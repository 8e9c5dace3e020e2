"""Task: one benchmark item, a request to generate or change Terraform, and how to judge it.

A task is stored as one flat record (see `Task.to_record`) whose columns have the same type on
every row: files are lists of `{"name", "text"}` objects, never maps with varying keys. JSON
cannot say the type of an empty list or of a column that is null in every row (a file of
generation tasks has `files: []` and `description: null` throughout), so read JSONL task files
with `task_features()`; Parquet files carry the same types themselves:

    datasets.load_dataset("json", data_files=[...], features=task_features())
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from iacforge.errors import IacforgeError
from iacforge.generate import Request
from iacforge.verify.intent_policy import IntentPolicy

if TYPE_CHECKING:
    import datasets

Kind = Literal["generate", "mutate"]
KINDS: tuple[str, ...] = ("generate", "mutate")
#: The columns of a task record, in order (the documented task schema).
COLUMNS: tuple[str, ...] = ("id", "kind", "prompt", "files", "intent", "reference", "difficulty",
                            "resources", "source", "description")


def policy_name(task_id: str) -> str:
    """The one name of a task's intent policy: `<task id>.rego`."""
    return f"{task_id}.rego"


@dataclass(frozen=True)
class Task:
    """A request for Terraform, an optional Rego intent and reference, and metadata.

    >>> t = Task("s3-1", "generate", "An S3 bucket.", resources=("aws_s3_bucket",))
    >>> t.family, Task.from_record(t.to_record()) == t
    ('s3', True)
    """

    id: str
    kind: Kind
    prompt: str
    #: The configuration a mutation starts from (file name → text); empty for a generation.
    files: dict[str, str] = field(default_factory=dict)
    #: Rego intent policy text evaluated on the plan (FV-iii), or None.
    intent: str | None = None
    #: A reference solution (file name → text); empty when the benchmark has none.
    reference: dict[str, str] = field(default_factory=dict)
    #: The benchmark's difficulty label (IaC-Eval: "1" … "6"), or None.
    difficulty: str | None = None
    #: Resource types the task is about (`aws_s3_bucket`, …), as the benchmark lists them.
    resources: tuple[str, ...] = ()
    #: Where the task came from (`file.csv:12`).
    source: str = ""
    #: The benchmark's prose description of the intent (IaC-Eval's `Intent` column).
    description: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise IacforgeError(f"a task needs an id ({self.source or 'no source'})")
        if self.kind not in KINDS:
            raise IacforgeError(f"task {self.id}: kind must be generate or mutate, "
                                f"not {self.kind!r}")
        if not self.prompt.strip():
            raise IacforgeError(f"task {self.id}: the prompt is empty")
        if self.kind == "mutate" and not self.files:
            raise IacforgeError(f"task {self.id}: a mutate task needs the files it starts from")

    def policy(self) -> IntentPolicy | None:
        """The task's intent policy, named by `policy_name` (the name is in the verdict
        cache key, so eval, training and data tools share cached verdicts), or None."""
        return None if self.intent is None else IntentPolicy(self.intent, policy_name(self.id))

    def request(self) -> Request:
        """What the repair loop is asked for this task: its prompt, the files a mutation
        starts from, and its intent policy.

        >>> r = Task("q-1", "generate", "A queue.", intent="package p").request()
        >>> r.kind, r.intent.name
        ('generate', 'q-1.rego')
        """
        return Request(self.prompt, files=dict(self.files), intent=self.policy())

    @property
    def family(self) -> str:
        """The resource family the task is about (see `resource_family`)."""
        return resource_family(self.resources)

    def to_record(self) -> dict[str, Any]:
        """The task as one row of the task schema (JSON-ready)."""
        return {
            "id": self.id, "kind": self.kind, "prompt": self.prompt,
            "files": _file_list(self.files), "intent": self.intent,
            "reference": _file_list(self.reference), "difficulty": self.difficulty,
            "resources": list(self.resources), "source": self.source,
            "description": self.description,
        }

    @classmethod
    def from_record(cls, row: dict[str, Any]) -> Task:
        """A task from one row of the task schema; unknown columns are an error."""
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise IacforgeError(f"task {row.get('id', '?')}: unknown column(s) "
                                f"{', '.join(sorted(unknown))}; the columns are "
                                f"{', '.join(COLUMNS)}")
        for required in ("id", "prompt"):
            if not isinstance(row.get(required), str):
                raise IacforgeError(f"task {row.get('id', '?')}: {required!r} must be a string")
        difficulty = row.get("difficulty")
        return cls(
            id=row["id"], kind=row.get("kind") or ("mutate" if row.get("files") else "generate"),
            prompt=row["prompt"], files=_file_map(row.get("files"), row["id"]),
            intent=row.get("intent") or None,
            reference=_file_map(row.get("reference"), row["id"]),
            difficulty=None if difficulty in (None, "") else str(difficulty),
            resources=tuple(row.get("resources") or ()), source=row.get("source") or "",
            description=row.get("description") or None,
        )

    def digest(self) -> str:
        """SHA-256 of the task's record: runs check they resume on the same tasks."""
        text = json.dumps(self.to_record(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def task_features() -> datasets.Features:
    """The `datasets.Features` of a task record: every column typed, also where JSON cannot say.

    Raises:
        IacforgeError: the `datasets` package is not installed (`pip install iacforge[llm]`).
    """
    try:
        import datasets
    except ImportError:
        raise IacforgeError("task_features() needs the datasets package "
                            "(pip install 'iacforge[llm]')") from None
    text = datasets.Value("string")
    files = datasets.List({"name": text, "text": text})
    return datasets.Features({
        "id": text, "kind": text, "prompt": text, "files": files, "intent": text,
        "reference": files, "difficulty": text, "resources": datasets.List(text),
        "source": text, "description": text,
    })


#: Resource types that belong to a family named after another service: the networking parts
#: of EC2 are "vpc", as the AWS console groups them.
_FAMILY_OF_PREFIX = {
    "subnet": "vpc", "internet": "vpc", "nat": "vpc", "route": "vpc", "route53": "route53",
    "security": "vpc", "network": "vpc", "eip": "vpc", "default": "vpc", "egress": "vpc",
    "vpn": "vpc", "customer": "vpc", "main": "vpc", "flow": "vpc", "ec2": "ec2",
    "instance": "ec2", "launch": "ec2", "ami": "ec2", "ebs": "ec2", "key": "ec2",
    "placement": "ec2", "volume": "ec2", "autoscaling": "ec2", "db": "rds", "rds": "rds",
    "lb": "elb", "alb": "elb", "elb": "elb", "cloudwatch": "cloudwatch", "lambda": "lambda",
}


def resource_family(resources: tuple[str, ...] | list[str]) -> str:
    """The service most of `resources` belong to (`aws_s3_bucket` → `s3`), first on ties.

    >>> resource_family(("aws_vpc", "aws_subnet", "aws_s3_bucket"))
    'vpc'
    """
    families: dict[str, int] = {}
    for resource in resources:
        parts = resource.strip().split("_")
        if len(parts) < 2:
            continue
        head = parts[1].lower()
        name = _FAMILY_OF_PREFIX.get(head, head)
        families[name] = families.get(name, 0) + 1
    if not families:
        return "other"
    return max(families, key=lambda name: families[name])  # max keeps the first of equals


def _file_list(files: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "text": text} for name, text in sorted(files.items())]


def _file_map(value: Any, task_id: str) -> dict[str, str]:
    """`[{"name", "text"}, …]` (the stored form) or a plain mapping, as a name → text dict."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    try:
        return {item["name"]: item["text"] for item in value}
    except (TypeError, KeyError):
        raise IacforgeError(f"task {task_id}: files must be a list of {{name, text}} "
                            "objects") from None
