"""argparse `type=` validators for numbers, and the help layout every command shares.

A value out of range is a usage error: argparse prints one line naming the option and exits 2.

>>> positive_int("3"), port("0"), fraction("0.25")
(3, 0, 0.25)
>>> positive_int("-3")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be a whole number of at least 1, not '-3'
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["HelpFormatter", "add_verbosity", "fraction", "non_negative_float", "non_negative_int",
           "port", "positive_float", "positive_int", "probability", "steps", "unit_interval"]


def _int_at_least(low: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in some messages
    return parse


def _float_in(check: Callable[[float], bool], what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and check(value)):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        return value

    parse.__name__ = what
    return parse


#: Counts and sizes: workers, samples, turns, chunks, tokens, steps.
positive_int = _int_at_least(1, "a whole number of at least 1")
#: Offsets and seeds.
non_negative_int = _int_at_least(0, "a whole number of at least 0")
#: Seconds and learning rates.
positive_float = _float_in(lambda v: v > 0, "a number greater than 0")
#: Temperatures, KL coefficients.
non_negative_float = _float_in(lambda v: v >= 0, "a number of at least 0")
#: Thresholds and overlaps: 0 to 1, both included.
unit_interval = _float_in(lambda v: 0 <= v <= 1, "a number from 0 to 1")
#: top-p: above 0, at most 1.
probability = _float_in(lambda v: 0 < v <= 1, "a number above 0 and at most 1")
#: A share of a set that must leave something on both sides.
fraction = _float_in(lambda v: 0 < v < 1, "a number between 0 and 1 (both excluded)")


def port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, not {text!r}")
    return value


def steps(text: str) -> int:
    """A number of training steps, or -1: run the epochs instead."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value != -1 and value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 step, or -1 for the epochs, "
                                         f"not {text!r}")
    return value


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Options' defaults in their help (where the help does not already say it), and the
    epilog (exit codes, an example) kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (default is None or isinstance(default, bool) or default in ((), [])
                or default == argparse.SUPPRESS or "default" in text
                or not action.option_strings):
            return action.help
        if isinstance(default, list | tuple):
            default = ",".join(map(str, default))
        return f"{text} (default: {str(default).replace('%', '%%')})"


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """`-q/--quiet` (no progress or status lines on stderr) and `-v/--verbose` (iacforge's
    log on stderr, and a traceback with an internal error)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bar or status lines on stderr; errors still print")
    group.add_argument("-v", "--verbose", action="store_true",
                       help="log what iacforge does on stderr; a traceback on internal errors")
