"""The calculator tool: arithmetic through simpleeval with only numbers, operators and math."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from decimal import Decimal

import simpleeval  # type: ignore[import-untyped]

from magpie.tools.deps import ToolDeps

MAX_EXPRESSION = 500  # characters
MAX_INT_BITS = 3_400  # about 1,000 decimal digits
MAX_ROUND_DIGITS = 100

Real = int | float


class _TooBig(ArithmeticError):
    """The result would be larger than the calculator allows."""


async def calculate(deps: ToolDeps, expression: str) -> str:
    """Arithmetic, e.g. "2 * (3 + 4) ** 2" or "sqrt(2) * sin(pi / 4)"; ** or ^ for powers."""
    return evaluate(expression)


def evaluate(expression: str) -> str:
    """`expression = result`, or a short "can't calculate: …" reason; never raises."""
    text = expression.strip().translate(_TYPOGRAPHY)
    if not text:
        return "can't calculate: the expression is empty"
    if len(text) > MAX_EXPRESSION:
        return f"can't calculate: the expression is longer than {MAX_EXPRESSION} characters"
    try:
        tree = ast.parse(text, mode="eval")
        result = _real(_evaluator().eval(text, previously_parsed=tree.body))
    except ZeroDivisionError:
        return "can't calculate: division by zero"
    except (_TooBig, OverflowError):
        return "can't calculate: the result would be too large"
    except (SyntaxError, ValueError) as exc:
        reason = "that is not a valid expression" if isinstance(exc, SyntaxError) else str(exc)
        return f"can't calculate: {reason}"
    except simpleeval.NameNotDefined as exc:
        return f"can't calculate: unknown name {exc.name!r} (known: pi, e, tau)"
    except simpleeval.FunctionNotDefined as exc:
        return f"can't calculate: unknown function {exc.func_name!r}"
    except (simpleeval.InvalidExpression, TypeError, RecursionError):
        return "can't calculate: only numbers, + - * / // % **, and math functions are allowed"
    return f"{text} = {_format(result)}"


def _evaluator() -> simpleeval.SimpleEval:
    """A SimpleEval that knows numbers, arithmetic and a few math functions, and nothing else."""
    evaluator = simpleeval.SimpleEval(operators=_OPERATORS, functions=_FUNCTIONS, names=_NAMES)
    allowed = (ast.Name, ast.UnaryOp, ast.BinOp, ast.Call, ast.Constant)
    evaluator.nodes = {
        node: handler for node, handler in evaluator.nodes.items() if node in allowed
    }
    return evaluator


def _real(value: object) -> Real:
    """`value` if it is an int or a finite float, else an error for the user."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("only real numbers are supported")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise _TooBig
    if isinstance(value, float) and not math.isfinite(value):
        raise _TooBig if math.isinf(value) else ValueError("the result is not a number")
    return value


def _checked(function: Callable[..., object]) -> Callable[..., Real]:
    """`function` with every argument and its result held to `_real`."""

    def call(*args: object) -> Real:
        return _real(function(*(_real(arg) for arg in args)))

    return call


def _power(base: Real, exponent: Real) -> object:
    """`base ** exponent`, refusing integer powers whose result would be huge before computing."""
    whole = isinstance(base, int) and isinstance(exponent, int)
    if whole and exponent > 0 and (abs(int(base)).bit_length() - 1) * exponent > MAX_INT_BITS:
        raise _TooBig
    return base**exponent


def _round(number: Real, digits: Real = 0) -> object:
    """`round` with a bounded number of digits (a huge negative one would build a huge power)."""
    if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
        raise ValueError(f"round() takes a whole number of digits up to {MAX_ROUND_DIGITS}")
    return round(number, digits)


def _format(value: Real) -> str:
    """Floats to 12 significant digits; long integers in scientific notation with their length."""
    if isinstance(value, float):
        return f"{value:.12g}"
    digits = len(str(abs(value)))
    return str(value) if digits <= 30 else f"{Decimal(value):.12e} ({digits} digits)"


_TYPOGRAPHY = str.maketrans({"×": "*", "÷": "/", "−": "-", "^": "**"})
_OPERATORS = {
    ast.Add: _checked(operator.add),
    ast.Sub: _checked(operator.sub),
    ast.Mult: _checked(operator.mul),
    ast.Div: _checked(operator.truediv),
    ast.FloorDiv: _checked(operator.floordiv),
    ast.Mod: _checked(operator.mod),
    ast.Pow: _checked(_power),
    ast.USub: _checked(operator.neg),
    ast.UAdd: _checked(operator.pos),
}
_MATH: dict[str, Callable[..., object]] = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
    "round": _round,
    "min": min,
    "max": max,
}
_FUNCTIONS = {name: _checked(function) for name, function in _MATH.items()}
_NAMES = {"pi": math.pi, "e": math.e, "tau": math.tau}
