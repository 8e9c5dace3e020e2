"""Fold the number an expression computes (`1000 * 1000`, `pow(10, 4)`, `var.n * 2`), for the
screen's cost rules.

Only literal arithmetic is folded: numbers, `+ - * / %`, parentheses, a few numeric functions,
variable defaults and local values. A conditional folds to the larger branch (the screen wants a
bound, not the value). Anything else folds to None: the caller judges that conservatively.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from iacforge.hcl.lexer import Token, tokenize
from iacforge.verify.screen.locate import Source

Resolve = Callable[[str, str], Any]
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "pow": lambda a, b: _power(a, b), "max": max, "min": min, "abs": abs,
    "ceil": math.ceil, "floor": math.floor, "signum": lambda a: (a > 0) - (a < 0),
    "tonumber": float,
}
_OPERAND_END = ("number", "ident", "close")
_MAX_DEPTH = 8


def fold(tokens: Sequence[Token], resolve: Resolve, depth: int = 0) -> float | None:
    """The number `tokens` compute (an upper bound for a conditional), or None."""
    tokens = _strip(list(tokens))
    if not tokens or depth > _MAX_DEPTH:
        return None
    top = min(t.depth for t in tokens)
    level = [i for i, t in enumerate(tokens) if t.depth == top and t.kind == "punct"]
    question = next((i for i in level if tokens[i].text == "?"), None)
    if question is not None:
        colon = _matching_colon(tokens, level, question)
        if colon is None:
            return None
        branches = [fold(tokens[question + 1:colon], resolve, depth),
                    fold(tokens[colon + 1:], resolve, depth)]
        return None if None in branches else max(b for b in branches if b is not None)
    for operators in ("+-", "*/%"):
        split = [i for i in level if tokens[i].text in operators and _binary(tokens, i)]
        if split:
            i = split[-1]
            left, right = fold(tokens[:i], resolve, depth), fold(tokens[i + 1:], resolve, depth)
            return None if left is None or right is None else _apply(tokens[i].text, left, right)
    if tokens[0].kind == "punct" and tokens[0].text == "-":
        value = fold(tokens[1:], resolve, depth)
        return None if value is None else -value
    return _primary(tokens, resolve, depth)


def _strip(tokens: list[Token]) -> list[Token]:
    """Without the `"${` … `}"` of a one-interpolation template or enclosing parentheses."""
    while True:
        if len(tokens) >= 2 and (tokens[0].text, tokens[-1].text) == ("${", "}") \
                and all(t.depth > tokens[0].depth for t in tokens[1:-1]):
            tokens = tokens[1:-1]
        elif len(tokens) >= 3 and tokens[0].kind == "open" and tokens[-1].kind == "close" \
                and tokens[1].text == "${" and tokens[-2].text == "}":
            tokens = tokens[2:-2]
        elif len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")" \
                and all(t.depth > tokens[0].depth for t in tokens[1:-1]):
            tokens = tokens[1:-1]
        else:
            return tokens


def _matching_colon(tokens: list[Token], level: list[int], question: int) -> int | None:
    nested = 0
    for i in level:
        if i <= question:
            continue
        if tokens[i].text == "?":
            nested += 1
        elif tokens[i].text == ":":
            if nested == 0:
                return i
            nested -= 1
    return None


def _binary(tokens: list[Token], i: int) -> bool:
    before = tokens[i - 1] if i else None
    return before is not None and (before.kind in _OPERAND_END or before.text in ")]")


def _apply(operator: str, left: float, right: float) -> float | None:
    if operator in "/%" and right == 0:
        return None
    return {"+": left + right, "-": left - right, "*": left * right,
            "/": left / right if right else 0, "%": math.fmod(left, right) if right else 0,
            }[operator]


def _power(base: float, exponent: float) -> float:
    try:
        return float(base) ** float(exponent)
    except OverflowError:
        return math.inf


def _primary(tokens: list[Token], resolve: Resolve, depth: int) -> float | None:
    if len(tokens) == 1 and tokens[0].kind == "number":
        return float(tokens[0].text)
    if [t.kind for t in tokens] == ["open", "text", "close"]:  # "5"
        return _number_in(tokens[1].text)
    texts = [t.text for t in tokens]
    if len(tokens) == 3 and texts[0] in ("var", "local") and texts[1] == ".":
        return _value(resolve(texts[0], texts[2]), resolve, depth)
    if len(tokens) >= 3 and tokens[0].kind == "ident" and texts[1] == "(" and texts[-1] == ")":
        function = _FUNCTIONS.get(texts[0])
        arguments = [fold(arg, resolve, depth) for arg in _arguments(tokens[2:-1],
                                                                        tokens[1].depth + 1)]
        if function is None or not arguments or None in arguments:
            return None
        try:
            return float(function(*arguments))
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def _arguments(tokens: list[Token], depth: int) -> list[list[Token]]:
    out: list[list[Token]] = [[]]
    for token in tokens:
        if token.depth == depth and token.kind == "punct" and token.text == ",":
            out.append([])
        else:
            out[-1].append(token)
    return [arg for arg in out if arg]


def _value(value: Any, resolve: Resolve, depth: int) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Source):
        return fold(tokenize(value.text), resolve, depth + 1)
    if isinstance(value, str):
        number = _number_in(value)
        return number if number is not None else fold(tokenize(value, template=True),
                                                      resolve, depth + 1)
    return None


def _number_in(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None
