"""The static screen: rules (rules.py) that refuse hostile Terraform before any of it runs, under a
policy that is data (policy.py, policy.json); locate.py, fold.py and paths.py read the source."""

from iacforge.verify.screen.policy import PACKAGED, PolicyError, ScreenPolicy
from iacforge.verify.screen.rules import screen, source_kind

__all__ = ["PACKAGED", "PolicyError", "ScreenPolicy", "screen", "source_kind"]
