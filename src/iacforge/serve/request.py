"""The body of `POST /verify`, checked field by field; a RequestError says what is wrong.

```json
{"candidates": [{"files": {"main.tf": "..."}}, {"text": "an LLM reply with ```hcl blocks"}],
 "intent": "package terraform.validation ..." | null,
 "stages": ["validate", "plan"] | null,
 "fail_on": ["security", "lint"] | null}
```

`fail_on` names the advisory stages whose failure fails a certificate's verdict too (null:
the server's `IACFORGE_FAIL_ON`); it changes `status`, never the reward.

A candidate may carry its own `"intent"` (text or null), which replaces the request's.
File names in `"files"` must be distinct after normalisation (`./main.tf` is `main.tf`, and
case does not tell two names apart) and stay inside the module; if not, the request is a 422.
Names in a `"text"` reply are the model's: a clash there fails the candidate's extract stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from iacforge.candidate import Candidate
from iacforge.errors import ConfigError
from iacforge.formal import parse_fail_on
from iacforge.hcl.extract import from_text
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import require_policy
from iacforge.verify.sandbox import UnsafePath, safe_relative
from iacforge.verify.stages import STAGES

_FIELDS = frozenset({"candidates", "intent", "stages", "fail_on"})
_CANDIDATE_FIELDS = frozenset({"files", "text", "intent"})


class RequestError(Exception):
    """A request the service refuses: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class VerifyRequest:
    """A checked request: one intent (or None) per candidate, and the stages asked for."""

    candidates: tuple[Candidate, ...]
    intents: tuple[IntentPolicy | None, ...]
    stages: tuple[str, ...] | None
    #: Advisory stages that gate the verdict; None: the service's default.
    fail_on: tuple[str, ...] | None = None


def parse_request(payload: Any, *, max_bytes: int) -> VerifyRequest:
    """Check a decoded JSON body; RequestError(422) names the first field that is wrong."""
    if not isinstance(payload, dict):
        raise _shape("the body must be a JSON object with a 'candidates' list")
    unknown = sorted(set(payload) - _FIELDS)
    if unknown:
        raise _shape(f"unknown field(s) {', '.join(unknown)}; "
                     f"expected {', '.join(sorted(_FIELDS))}")
    items = payload.get("candidates")
    if not isinstance(items, list) or not items:
        raise _shape("'candidates' must be a non-empty list")
    default = _intent(payload.get("intent"), "intent")
    candidates, intents = [], []
    for index, item in enumerate(items):
        candidate, intent = _candidate(item, index, default, max_bytes)
        candidates.append(candidate)
        intents.append(intent)
    stages = _stages(payload.get("stages"))
    try:  # candidates with and without a policy may share a batch; `intent` needs one at least
        require_policy(stages, intents)
    except ConfigError as exc:
        raise _shape(str(exc)) from None
    return VerifyRequest(tuple(candidates), tuple(intents), stages,
                         _fail_on(payload.get("fail_on")))


def _candidate(item: Any, index: int, default: IntentPolicy | None,
               max_bytes: int) -> tuple[Candidate, IntentPolicy | None]:
    where = f"candidates[{index}]"
    if not isinstance(item, dict):
        raise _shape(f"{where} must be an object with 'files' or 'text'")
    unknown = sorted(set(item) - _CANDIDATE_FIELDS)
    if unknown:
        raise _shape(f"{where}: unknown field(s) {', '.join(unknown)}")
    if ("files" in item) == ("text" in item):
        raise _shape(f"{where} must have exactly one of 'files' or 'text'")
    intent = _intent(item["intent"], f"{where}.intent") if "intent" in item else default
    if "text" in item:
        if not isinstance(item["text"], str):
            raise _shape(f"{where}.text must be a string")
        return from_text(item["text"], source=where, max_bytes=max_bytes), intent
    files = item["files"]
    if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise _shape(f"{where}.files must be an object of file name to text")
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values())
    if size > max_bytes:
        return Candidate({}, where, (f"input is larger than {max_bytes} bytes",)), intent
    candidate = Candidate(dict(files), where)
    try:
        for name in candidate.files:
            safe_relative(name)
    except UnsafePath as exc:
        raise _shape(f"{where}.files: {exc}") from None
    if candidate.problems:  # the names clash: the client's mistake, not the candidate's
        raise _shape(f"{where}.files: {candidate.problems[0]}")
    return candidate, intent


def _intent(value: Any, where: str) -> IntentPolicy | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _shape(f"'{where}' must be Rego policy text or null")
    return IntentPolicy(value)


def _stages(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value) or not value:
        raise _shape("'stages' must be a non-empty list of stage names, or null")
    unknown = [s for s in value if s not in STAGES]
    if unknown:
        raise _shape(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return tuple(value)


def _fail_on(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _shape("'fail_on' must be a list of advisory stage names, or null")
    try:
        return parse_fail_on(value)
    except ConfigError as exc:
        raise _shape(str(exc)) from None


def _shape(message: str) -> RequestError:
    return RequestError(422, message)
