"""Evaluate an intent policy on an input document and return its package's `data` document.

Two engines. `regorus` (in-process, always installed) is the default. `opa` runs the `opa`
binary and is used only when asked for. Both read v0 or v1 Rego as `IntentPolicy.v1` says.

A false verdict and a failed evaluation never look alike: evaluation problems raise RegoError.
One difference between the engines shows up as such an error: regorus stops the evaluation
when a built-in function fails (`count(null)`, `to_number("x")`), where OPA by default makes
that expression undefined and carries on. regorus has no time limit either; a policy is task
data, not model output, so an evaluation that runs away is a bug in the task, not an attack.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import regorus

from iacforge.errors import IacforgeError, SetupError
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.sandbox.process import run_process
from iacforge.verify.sandbox.workspace import scratch_dir

Engine = Literal["regorus", "opa", "auto"]
ErrorKind = Literal["syntax", "runtime", "timeout"]

_LOCATION = re.compile(r"^\s*-->\s*.*:(\d+):\d+\s*$", re.M)
# regorus refuses policies with lines over 1,024 columns or over 20,000 lines; OPA has no
# such limits, and a policy that embeds a long JSON document is fine there.
_POLICY_LIMITS = {"max_col": 1 << 20, "max_file_bytes": 1 << 26, "max_lines": 1 << 20}
# An error message quotes the offending source line; keep a long one short.
_MAX_LINE = 240
# OPA error codes that mean the policy itself does not compile; any other code is an
# evaluation (runtime) error.
_OPA_SYNTAX_CODES = frozenset(
    {
        "rego_parse_error",
        "rego_compile_error",
        "rego_type_error",
        "rego_unsafe_var_error",
        "rego_recursion_error",
    }
)


class RegoError(IacforgeError):
    """The policy could not be evaluated: it does not load, it failed at run time, or timed out.

    `kind` is "syntax" when the policy does not load (regorus: parse errors; OPA: parse and
    compile errors), "runtime" when evaluation failed, "timeout" when it took too long.
    """

    def __init__(self, message: str, *, engine: str, kind: ErrorKind, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.engine = engine
        self.kind = kind
        self.line = line


def evaluate(
    policy: IntentPolicy,
    document: dict[str, Any],
    *,
    engine: Engine = "auto",
    timeout: float = 60.0,
) -> dict[str, Any]:
    """The `data` document of the policy's package, with `document` as `input`.

    Sets come back as lists, as in OPA's JSON output. A package with no defined rule gives {}.

    Args:
        engine: "regorus" or "auto" (the same) evaluate in-process; "opa" runs the `opa`
            binary and raises SetupError when there is none on PATH.
        timeout: seconds the `opa` binary may run; regorus has no time limit.

    Raises:
        RegoError: the policy did not load, or evaluation failed or timed out.
    """
    if engine in ("regorus", "auto"):
        return _evaluate_regorus(policy, document)
    if engine == "opa":
        return _evaluate_opa(policy, document, timeout)
    raise ValueError(f"unknown Rego engine {engine!r}; use 'regorus', 'opa' or 'auto'")


def _clean(message: str) -> str:
    """regorus's message without the Rust stack trace it appends when RUST_BACKTRACE is set."""
    lines = message.split("Stack backtrace:", 1)[0].strip().splitlines()
    return "\n".join(ln if len(ln) <= _MAX_LINE else ln[:_MAX_LINE] + "…" for ln in lines)


def _line(message: str) -> int | None:
    match = _LOCATION.search(message)
    return int(match.group(1)) if match else None


_THREAD = threading.local()


def _loaded(text: str, name: str, v1: bool) -> tuple[regorus.Engine, str]:
    """An engine with the policy parsed, and the package query; callers clone the engine.

    A regorus engine may only be used on the thread that made it (pyo3 `unsendable`: another
    thread gets a PanicException), so each thread keeps its own cache of parsed policies.
    """
    load = getattr(_THREAD, "load", None)
    if load is None:
        load = _THREAD.load = lru_cache(maxsize=64)(_load)
    return load(text, name, v1)


def _load(text: str, name: str, v1: bool) -> tuple[regorus.Engine, str]:
    engine = regorus.Engine()
    engine.set_rego_v0(not v1)
    engine.set_policy_length_config(**_POLICY_LIMITS)
    engine.set_gather_prints(True)
    try:
        package = engine.add_policy(name, text)
    except Exception as exc:  # regorus raises plain RuntimeError / ValueError
        message = _clean(str(exc))
        raise RegoError(message, engine="regorus", kind="syntax", line=_line(message)) from None
    return engine, package


def _evaluate_regorus(policy: IntentPolicy, document: dict[str, Any]) -> dict[str, Any]:
    base, package = _loaded(policy.text, policy.name, policy.v1)
    engine = base.clone()
    try:
        engine.set_input_json(json.dumps(document))
        output = json.loads(engine.eval_query_as_json(package))
    except Exception as exc:
        message = _clean(str(exc))
        raise RegoError(message, engine="regorus", kind="runtime", line=_line(message)) from None
    return _value(output)


def _value(output: dict[str, Any]) -> dict[str, Any]:
    """The value of the single query expression, or {} when the package is undefined."""
    results = output.get("result") or []
    if not results:
        return {}
    value = results[0]["expressions"][0]["value"]
    return value if isinstance(value, dict) else {}


@lru_cache(maxsize=8)
def _opa_major(opa: str) -> int:
    """The major version of the `opa` binary at `opa` (0 when it does not say)."""
    out = run_process([opa, "version"], cwd=Path(tempfile.gettempdir()), env={}, timeout=30).stdout
    match = re.search(r"^Version:\s*v?(\d+)", out, re.M)
    return int(match.group(1)) if match else 0


def _opa_syntax_flags(opa: str, v1: bool) -> list[str]:
    """Flags that make `opa eval` read the policy as the Rego version it is written in."""
    if _opa_major(opa) >= 1:
        return [] if v1 else ["--v0-compatible"]
    return ["--v1-compatible"] if v1 else []


def _evaluate_opa(policy: IntentPolicy, document: dict[str, Any], timeout: float) -> dict[str, Any]:
    opa = shutil.which("opa")
    if opa is None:
        raise SetupError(
            "the 'opa' Rego engine was asked for but no `opa` binary is on PATH; "
            "install OPA or use the 'regorus' engine"
        )
    if not policy.package:
        raise RegoError("the policy has no package declaration", engine="opa", kind="syntax")
    filename = policy.name if policy.name.endswith(".rego") else "intent.rego"
    with tempfile.TemporaryDirectory(prefix="rego-", dir=scratch_dir()) as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_text(policy.text, encoding="utf-8")
        argv = [
            opa,
            "eval",
            "--format",
            "json",
            *_opa_syntax_flags(opa, policy.v1),
            "--stdin-input",
            "--data",
            str(path),
            f"data.{policy.package}",
        ]
        result = run_process(
            argv, cwd=Path(tmp), env={}, timeout=timeout, stdin=json.dumps(document)
        )
    if result.timed_out:
        raise RegoError(f"opa eval did not finish in {timeout:g} s", engine="opa", kind="timeout")
    try:
        output = json.loads(result.stdout)
    except json.JSONDecodeError:
        output = None
    if result.returncode != 0 or not isinstance(output, dict) or "errors" in output:
        raise _opa_error(output, result.stderr or result.stdout)
    return _value(output)


def _opa_error(output: Any, fallback: str) -> RegoError:
    errors = output.get("errors") if isinstance(output, dict) else None
    if not errors:
        return RegoError(fallback.strip() or "opa eval failed", engine="opa", kind="runtime")
    codes = {e.get("code") for e in errors}
    kind: ErrorKind = "syntax" if codes & _OPA_SYNTAX_CODES else "runtime"
    message = "\n".join(f"{e.get('code', 'error')}: {e.get('message', '')}" for e in errors)
    line = next((e["location"].get("row") for e in errors if e.get("location")), None)
    return RegoError(message, engine="opa", kind=kind, line=line)
