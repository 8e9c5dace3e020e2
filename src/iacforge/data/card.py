"""Dataset statistics and a dataset card (markdown with Hugging Face front matter).

>>> stats = statistics({"train": [Task("a", "generate", "An S3 bucket.",
...                                     resources=("aws_s3_bucket",))]})
>>> stats["tasks"], stats["families"]
(1, {'s3': 1})
"""

from __future__ import annotations

import statistics as stat
from collections import Counter
from collections.abc import Sequence
from typing import Any

from iacforge.data.split import combination
from iacforge.data.task import COLUMNS, Task


def statistics(splits: dict[str, Sequence[Task]]) -> dict[str, Any]:
    """Counts over every split: kinds, difficulty, families, combinations, resource types,
    sizes, mutation ops and sources."""
    tasks = [t for part in splits.values() for t in part]
    resources = [len(t.resources) for t in tasks] or [0]
    words = [len(t.prompt.split()) for t in tasks] or [0]
    return {
        "tasks": len(tasks),
        "splits": {name: len(part) for name, part in splits.items()},
        "kinds": dict(Counter(t.kind for t in tasks).most_common()),
        "difficulty": dict(sorted(Counter(t.difficulty or "?" for t in tasks).items())),
        "families": dict(Counter(t.family for t in tasks).most_common()),
        "combinations": len({combination(t) for t in tasks}),
        "resource_types": dict(Counter(r for t in tasks for r in t.resources).most_common(30)),
        "distinct_resource_types": len({r for t in tasks for r in t.resources}),
        "resources_per_task": _summary(resources),
        "prompt_words": _summary(words),
        "with_intent": sum(t.intent is not None for t in tasks),
        "mutation_ops": dict(Counter(_op(t) for t in tasks if t.kind == "mutate").most_common()),
        "sources": dict(Counter(t.source.split(":")[0] for t in tasks).most_common(10)),
    }


def _feature_lines() -> list[str]:
    """The task columns' types as the card's `dataset_info.features` YAML (`task_features`)."""
    lines = []
    for column in COLUMNS:
        lines.append(f"  - name: {column}")
        if column in ("files", "reference"):
            lines += ["    list:", "    - name: name", "      dtype: string",
                      "    - name: text", "      dtype: string"]
        elif column == "resources":
            lines.append("    list: string")
        else:
            lines.append("    dtype: string")
    return lines


def dataset_card(stats: dict[str, Any], *, name: str, files: dict[str, str]) -> str:
    """A README.md for a dataset folder; `files` maps split names to file names in it."""
    front = ["---", "configs:", "- config_name: default", "  data_files:"]
    front += [f"  - split: {split}\n    path: {path}" for split, path in files.items()]
    front += ["dataset_info:", "  features:", *_feature_lines()]
    front += ["tags:", "- terraform", "- infrastructure-as-code", "- aws", "---", ""]
    body = [f"# {name}", "",
            "Terraform tasks (English request → configuration, or a change to one), each with "
            "a Rego intent policy on the plan and a reference solution that passed iacforge's "
            "verifier (terraform validate, plan against the offline AWS provider, intent).", "",
            "Load the folder with `datasets.load_dataset(folder)` (this card types every "
            "column), a file with `datasets.load_dataset(\"json\", data_files=..., "
            "features=iacforge.data.task.task_features())`, or with "
            "`iacforge.data.load_tasks(...)`; columns: id, kind, prompt, files, intent, "
            "reference, difficulty, resources, source, description.", "", "## Statistics", "",
            "| | |", "| --- | --- |",
            f"| tasks | {stats['tasks']} |",
            *(f"| split {k} | {v} |" for k, v in stats["splits"].items()),
            *(f"| kind {k} | {v} |" for k, v in stats["kinds"].items()),
            f"| with intent | {stats['with_intent']} |",
            f"| family combinations | {stats['combinations']} |",
            f"| distinct resource types | {stats['distinct_resource_types']} |",
            f"| resources per task (mean / median / max) | {_fmt(stats['resources_per_task'])} |",
            f"| prompt words (mean / median / max) | {_fmt(stats['prompt_words'])} |", ""]
    for title, key in (("Difficulty", "difficulty"), ("Families", "families"),
                       ("Mutation operations", "mutation_ops"), ("Sources", "sources"),
                       ("Most common resource types", "resource_types")):
        if stats[key]:
            body += [f"## {title}", "", "| | count |", "| --- | --- |",
                     *(f"| {k} | {v} |" for k, v in stats[key].items()), ""]
    return "\n".join(front + body)


def _op(task: Task) -> str:
    if task.description and task.description.startswith("mutation: "):
        return task.description.removeprefix("mutation: ")
    return task.source.split(":")[-1] if task.source.startswith("synth:") else "other"


def _summary(values: list[int]) -> dict[str, float]:
    return {"mean": round(stat.fmean(values), 2), "median": stat.median(values),
            "max": max(values)}


def _fmt(summary: dict[str, float]) -> str:
    return f"{summary['mean']} / {summary['median']} / {summary['max']}"
