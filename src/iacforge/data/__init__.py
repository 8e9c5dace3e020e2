"""Tasks: the Task schema and its loaders (IaC-Eval CSV, JSONL, Parquet, dataset folders)."""

from iacforge.data.loaders import IAC_EVAL_COLUMNS, iac_eval_task, load_tasks, save_tasks
from iacforge.data.task import COLUMNS, KINDS, Task, resource_family

__all__ = [
    "COLUMNS",
    "IAC_EVAL_COLUMNS",
    "KINDS",
    "Task",
    "iac_eval_task",
    "load_tasks",
    "resource_family",
    "save_tasks",
]
