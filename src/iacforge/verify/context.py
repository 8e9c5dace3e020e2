"""StageContext: what one verification run hands from stage to stage.

A stage reads the candidate and the artefacts of earlier stages from the context and may add
its own (the parsed model, the plan JSON, the Rego document). A context lives for one
candidate's run; stages keep no state of their own between runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic
from iacforge.verify.options import VerifierOptions

if TYPE_CHECKING:
    from iacforge.hcl.model import TerraformModel
    from iacforge.verify.intent_policy import IntentPolicy
    from iacforge.verify.terraform.runner import Terraform


@dataclass
class StageContext:
    """Inputs and artefacts of one candidate's verification run."""

    candidate: Candidate
    settings: Settings
    intent: IntentPolicy | None = None
    #: The normalised root module on disk, written by the workspace before terraform stages.
    workdir: Path | None = None
    terraform: Terraform | None = None
    #: Loopback endpoint of the AWS emulator that plan and apply talk to.
    aws_endpoint: str | None = None
    #: What normalisation changed in the files before terraform saw them.
    normalise_notes: tuple[Diagnostic, ...] = ()
    # Artefacts, filled in by the stages that produce them.
    model: TerraformModel | None = None
    plan: dict[str, Any] | None = None
    rego: dict[str, Any] | None = None
    options: VerifierOptions = field(default_factory=VerifierOptions)
