"""What the offline model understands: a few plain requests, read strictly, never guessed.

A request is the whole message in one of the documented forms ("what time is it in Tokyo?",
"calculate 17*23", "remember that …", "what are my notes?", "weather in Lviv"); a word that
merely appears in a sentence ("I don't have the time for this") is not a request. When a
message clearly asks for something the offline model cannot do as asked (an expression it
cannot read, a "remember" it cannot tell the content of), it says so instead of guessing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from magpie.llm.offline_markdown import code_span, literal
from magpie.tools.builtin.calculator import MAX_EXPRESSION

ZONES = {
    "kyiv": "Europe/Kyiv",
    "kiev": "Europe/Kyiv",
    "london": "Europe/London",
    "paris": "Europe/Paris",
    "berlin": "Europe/Berlin",
    "new york": "America/New_York",
    "tokyo": "Asia/Tokyo",
    "utc": "UTC",
}


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A request read in full: call `tool` with `arguments`."""

    tool: str
    arguments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Unclear:
    """A request recognised but not understood; `reason` (Markdown) says so to the person."""

    reason: str


Reading = ToolCall | Unclear | None

_ADDRESS = re.compile(r"^(?:(?:@\w+|hey|hi|ok|okay|please|[\w-]{1,32},)[\s,:!]+)+", re.I)
_TAIL_WORD = re.compile(r"(?<![^\s,])(?:@\w+|please|thanks|thank\s+you)$", re.I)
_TAIL_MARKS = " \t\n\r,.!?"
_NOW = r"(?:\s+(?:now|right\s+now|today))?"
_PLACE = rf"{_NOW}(?:\s+(?:in|for|at)\s+(?P<place>[^\n]{{1,64}}?))?{_NOW}"
_TIME = re.compile(
    r"(?:what(?:'s|\s+is)\s+the\s+(?:current\s+|local\s+)?(?:time|date)"
    r"|what\s+(?:time|date|day)\s+is\s+it|(?:the\s+)?(?:current\s+|local\s+)?time"
    rf"|today's\s+date|(?:the\s+)?date\s+today){_PLACE}",
    re.I,
)
_CALCULATE = re.compile(
    r"(?:calculate|compute|evaluate|calc)\s*:?\s+(?P<expression>.+)", re.I | re.S
)
_WHAT_IS = re.compile(r"(?:what(?:'s|\s+is)|how\s+much\s+is)\s+(?P<expression>.+)", re.I | re.S)
_LIST_NOTES = re.compile(
    r"(?:(?:what\s+are|show(?:\s+me)?|list|read(?:\s+me)?|what(?:'s|\s+is)\s+in)\s+)?"
    r"(?:my|our|the|this\s+chat's)\s+notes"
    r"|what\s+(?:did|have)\s+(?:i|we)\s+(?:noted?|saved)(?:\s+down)?"
    r"|what\s+notes\s+do\s+(?:you|we|i)\s+have",
    re.I,
)
_FIND_NOTES = re.compile(
    r"(?:find|search)\s+(?:my\s+|our\s+|the\s+)?notes\s+(?:about|for|on|with)\s+(?P<query>.+)",
    re.I | re.S,
)
_SAVE_NOTE = re.compile(
    r"(?:remember|note|make\s+a\s+note|take\s+a\s+note|save\s+a\s+note|note\s+down|write\s+down)"
    r"(?:\s+that\b|\s*:)\s*(?P<text>.*)",
    re.I | re.S,
)
_ASKS_TO_REMEMBER = re.compile(
    r"(?:(?:do|can|could|will|would)\s+you\s+|please\s+)?(?:remember|note|save\s+a\s+note)\b", re.I
)
_WEATHER = re.compile(
    r"(?:(?:what(?:'s|\s+is)|how(?:'s|\s+is))\s+the\s+|the\s+)?weather(?:\s+like)?"
    rf"{_NOW}\s+(?:in|for|at)\s+(?P<place>[^\n]{{1,80}}?){_NOW}",
    re.I,
)
_ARITHMETIC_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Call,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)
_TYPOGRAPHY = str.maketrans({"×": "*", "÷": "/", "−": "-", "^": "**"})
CAN_CALCULATE = "I can only calculate plain arithmetic like `17*23` or `sqrt(2) / 7`"
HOW_TO_NOTE = (
    "To keep a note, write `remember that …`, e.g. `remember that the keys are under the mat`"
)


@dataclass(frozen=True, slots=True)
class Request:
    """A message as a request: without a leading address ("@bot", "magpie,"), a trailing
    "please" or final punctuation, typographic apostrophes made plain; and whether it asked."""

    text: str
    question: bool

    @classmethod
    def of(cls, message: str) -> Request:
        text = _ADDRESS.sub("", message.strip().replace("’", "'"), count=1)
        question = False
        for _ in range(4):  # "…, please @magpie_bot?": a few words, never a whole message
            kept = text.rstrip(_TAIL_MARKS)
            question = question or "?" in text[len(kept) :]
            word = _TAIL_WORD.search(kept, max(0, len(kept) - 48))
            text = kept[: word.start()] if word else kept
            if word is None:
                break
        return cls(text.rstrip(_TAIL_MARKS), question)


def is_arithmetic(expression: str) -> bool:
    """Whether the calculator can read all of `expression`: numbers, operators, function calls."""
    text = expression.strip().translate(_TYPOGRAPHY)
    if not text or len(text) > MAX_EXPRESSION:
        return False
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # e.g. nesting too deep
        return False
    nodes = list(ast.walk(tree))
    numbers = [n for n in nodes if isinstance(n, ast.Constant)]
    return (
        bool(numbers)
        and all(isinstance(n, _ARITHMETIC_NODES) for n in nodes)
        and all(type(n.value) in (int, float) for n in numbers)
        and all(
            isinstance(n.func, ast.Name) and not n.keywords
            for n in nodes
            if isinstance(n, ast.Call)
        )
    )


def _time(request: Request) -> Reading:
    if not (match := _TIME.fullmatch(request.text)):
        return None
    place = (match["place"] or "UTC").strip()
    return ToolCall("current_time", {"timezone": ZONES.get(place.lower(), place)})


def _calculation(request: Request) -> Reading:
    if match := _CALCULATE.fullmatch(request.text):
        expression = match["expression"].strip()
        if is_arithmetic(expression):
            return ToolCall("calculate", {"expression": expression})
        shown = expression if len(expression) <= 200 else expression[:200] + "…"
        return Unclear(f"{CAN_CALCULATE}; I couldn't read {code_span(shown)}.")
    if (match := _WHAT_IS.fullmatch(request.text)) and is_arithmetic(
        expression := match["expression"].rstrip(" =")
    ):
        return ToolCall("calculate", {"expression": expression.strip()})
    return None


def _notes(request: Request) -> Reading:
    if _LIST_NOTES.fullmatch(request.text):
        return ToolCall("find_notes", {"query": ""})
    if match := _FIND_NOTES.fullmatch(request.text):
        return ToolCall("find_notes", {"query": match["query"].strip()})
    return None


def _note(request: Request) -> Reading:
    match = _SAVE_NOTE.fullmatch(request.text)
    if match and (text := match["text"].strip()):
        if request.question:
            return Unclear(f"I didn't save anything: that reads as a question. {HOW_TO_NOTE}.")
        return ToolCall("save_note", {"text": text})
    if _ASKS_TO_REMEMBER.match(request.text):
        return Unclear(
            f"I didn't save anything: I keep notes only when asked plainly. {HOW_TO_NOTE}."
        )
    return None


def _weather(request: Request) -> Reading:
    if match := _WEATHER.fullmatch(request.text):
        return ToolCall("weather", {"place": match["place"].strip()})
    return None


_READERS: tuple[Callable[[Request], Reading], ...] = (_note, _notes, _calculation, _time, _weather)


def read_request(message: str, available: set[str]) -> Reading:
    """The tool call `message` asks for, what is unclear about it, or None for no request."""
    request = Request.of(message)
    for reader in _READERS:
        reading = reader(request)
        if isinstance(reading, ToolCall) and reading.tool not in available:
            tool = literal(reading.tool)
            return Unclear(f"I'd use the **{tool}** tool for that, but it isn't available here.")
        if reading is not None:
            return reading
    return None
