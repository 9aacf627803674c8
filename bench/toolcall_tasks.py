"""The tool-use prompt set of bench/toolcalls.py: ten typed Python tools and 60 requests, each naming its tool.

Every tool is a plain Python function whose arguments a pydantic model checks (the JSON schema the
model sees is that model's schema); its body checks what a real one would (a date that exists, a
time zone that exists, units of one dimension, an expression that evaluates) and returns synthetic
data. The bench measures whether a call executes, not what the tool returns.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import operator
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ratiocinator.models.types import ToolSpec


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Weather(_Args):
    city: str = Field(min_length=1, description="city name")
    days: int = Field(1, ge=1, le=7, description="how many days of forecast")
    unit: Literal["celsius", "fahrenheit"] = "celsius"


class Calc(_Args):
    expression: str = Field(min_length=1, description="arithmetic expression, e.g. (2+3)*4")


LengthOrMass = Literal[
    "m", "km", "cm", "mile", "ft", "inch", "kg", "g", "lb", "oz", "celsius", "fahrenheit"
]


class Convert(_Args):
    value: float
    from_unit: LengthOrMass
    to_unit: LengthOrMass


class Search(_Args):
    query: str = Field(min_length=1)
    max_results: int = Field(3, ge=1, le=10)


class Event(_Args):
    title: str = Field(min_length=1)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")
    time: str = Field("09:00", pattern=r"^\d{2}:\d{2}$", description="HH:MM, 24-hour")
    duration_minutes: int = Field(60, ge=5, le=600)


class Clock(_Args):
    timezone: str = Field(description="IANA time zone, e.g. Europe/Paris")


class Stock(_Args):
    symbol: str = Field(pattern=r"^[A-Z]{1,5}$", description="ticker symbol, e.g. AAPL")


class Email(_Args):
    to: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    subject: str = Field(min_length=1)
    body: str


class Timer(_Args):
    minutes: int = Field(ge=1, le=1440)
    label: str = "timer"


class Currency(_Args):
    amount: float = Field(gt=0)
    from_currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO code, e.g. USD")
    to_currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO code, e.g. EUR")


def _synthetic(*parts: object) -> int:
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:8], 16)


def get_weather(a: Weather) -> list[float]:
    return [
        round(5 + _synthetic(a.city, d) % 25 * (1.8 if a.unit == "fahrenheit" else 1), 1)
        for d in range(a.days)
    ]


_OPS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _arith(node: ast.AST) -> float:
    # Arithmetic only, walked by hand: the expression comes from a model and must never be eval'd.
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        if isinstance(node.op, ast.Pow) and abs(_arith(node.right)) > 64:
            raise ValueError("exponent too large")
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ValueError(f"not arithmetic: {ast.dump(node)[:60]}")


def calculator(a: Calc) -> float:
    return _arith(ast.parse(a.expression.replace("^", "**"), mode="eval").body)


_FACTORS = {
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "cm": ("length", 0.01),
    "mile": ("length", 1609.344),
    "ft": ("length", 0.3048),
    "inch": ("length", 0.0254),
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
}


def convert_units(a: Convert) -> float:
    temps = {"celsius", "fahrenheit"}
    if {a.from_unit, a.to_unit} <= temps:
        if a.from_unit == a.to_unit:
            return a.value
        return a.value * 9 / 5 + 32 if a.from_unit == "celsius" else (a.value - 32) * 5 / 9
    if (
        a.from_unit in temps
        or a.to_unit in temps
        or _FACTORS[a.from_unit][0] != _FACTORS[a.to_unit][0]
    ):
        raise ValueError(f"cannot convert {a.from_unit} to {a.to_unit}")
    return a.value * _FACTORS[a.from_unit][1] / _FACTORS[a.to_unit][1]


def search_web(a: Search) -> list[str]:
    return [f"result {i + 1} for {a.query!r}" for i in range(a.max_results)]


def create_event(a: Event) -> str:
    when = dt.datetime.strptime(
        f"{a.date} {a.time}", "%Y-%m-%d %H:%M"
    )  # raises for 2025-02-30, 25:00
    return f"{a.title} at {when.isoformat()} for {a.duration_minutes} min"


def get_time(a: Clock) -> str:
    return f"zone {zoneinfo.ZoneInfo(a.timezone).key}"  # raises for a zone that does not exist


def get_stock_price(a: Stock) -> float:
    return 10 + _synthetic(a.symbol) % 50_000 / 100


def send_email(a: Email) -> str:
    return f"sent to {a.to}"


def set_timer(a: Timer) -> str:
    return f"{a.label}: {a.minutes} min"


def convert_currency(a: Currency) -> float:
    if a.from_currency == a.to_currency:
        raise ValueError("the two currencies are the same")
    return round(a.amount * (0.5 + _synthetic(a.from_currency, a.to_currency) % 100 / 100), 2)


@dataclass(frozen=True)
class Tool:
    """A Python tool: its spec for the model and the function that runs a call."""

    spec: ToolSpec
    args: type[_Args]
    fn: Callable[[Any], Any]

    def run(self, arguments: dict[str, Any]) -> Any:
        """Run a call; raises (pydantic ValidationError, ValueError, …) when the tool refuses it."""
        return self.fn(self.args.model_validate(arguments, strict=False))


def _untitled(node: Any) -> Any:
    """A pydantic schema without its "title" keys (they only lengthen the prompt)."""
    if isinstance(node, dict):
        return {
            k: _untitled(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))
        }
    return [_untitled(v) for v in node] if isinstance(node, list) else node


def _tool(fn: Callable[[Any], Any], args: type[_Args], description: str) -> Tool:
    schema = _untitled(args.model_json_schema())
    return Tool(ToolSpec(name=fn.__name__, description=description, parameters=schema), args, fn)


TOOLS: dict[str, Tool] = {
    t.spec.name: t
    for t in [
        _tool(get_weather, Weather, "Weather forecast for a city, for 1 to 7 days."),
        _tool(calculator, Calc, "Evaluate an arithmetic expression."),
        _tool(
            convert_units, Convert, "Convert a value between units of length, mass or temperature."
        ),
        _tool(search_web, Search, "Search the web and return the top results."),
        _tool(create_event, Event, "Add an event to the calendar."),
        _tool(get_time, Clock, "Current time in a time zone."),
        _tool(get_stock_price, Stock, "Latest price of a stock."),
        _tool(send_email, Email, "Send an email."),
        _tool(set_timer, Timer, "Start a countdown timer."),
        _tool(convert_currency, Currency, "Convert an amount of money between currencies."),
    ]
}


@dataclass(frozen=True)
class Task:
    """One request, the tool that answers it, and the tools offered (it and two others)."""

    prompt: str
    tool: str
    offered: tuple[str, ...]


_REQUESTS: dict[str, list[str]] = {
    "get_weather": [
        "What's the weather in Paris tomorrow?",
        "Give me a 3-day forecast for Tokyo in fahrenheit.",
        "Will it rain in Berlin this week? I need the next five days.",
        "how cold is it in oslo",
        "Forecast for New York for the next 2 days, in Celsius please.",
        "I'm flying to Lima; what will the weather be like over the next seven days?",
    ],
    "calculator": [
        "What is 17 * 23?",
        "Compute (12.5 + 7.5) / 4.",
        "what's 2 to the power of 10",
        "Please calculate 1234 - 567 + 89.",
        "How much is 15% of 240? Use the calculator.",
        "Evaluate 3*(4+5)-6/2.",
    ],
    "convert_units": [
        "Convert 5 km to miles.",
        "How many pounds is 70 kg?",
        "What is 100 fahrenheit in celsius?",
        "Convert 12 inches to centimeters.",
        "6 feet in meters?",
        "How many grams are in 8 ounces?",
    ],
    "search_web": [
        "Search the web for the latest Python release notes.",
        "Find me 5 articles about quantum error correction.",
        "Look up who won the 2018 World Cup.",
        "search for vegan lasagna recipes",
        "Find the top 2 results for 'rust borrow checker explained'.",
        "Can you search for reviews of the Framework laptop?",
    ],
    "create_event": [
        "Add a dentist appointment on 2025-03-14 at 15:30.",
        "Schedule 'Team sync' on 2025-06-02 at 10:00 for 30 minutes.",
        "Put my mom's birthday dinner in the calendar for 2025-09-21 at 19:00, two hours long.",
        "Create an event called Gym on 2025-01-08 at 07:15 lasting 45 minutes.",
        "Book 'Quarterly review' on 2025-11-28 at 14:00 for 90 minutes.",
        "Remind me of the conference on 2025-05-05.",
    ],
    "get_time": [
        "What time is it in Tokyo?",
        "Current time in New York please.",
        "What's the time in Europe/London right now?",
        "time in sydney?",
        "Tell me the current time in the America/Los_Angeles time zone.",
        "What time is it in Berlin?",
    ],
    "get_stock_price": [
        "What's Apple's stock price?",
        "Get the latest price of MSFT.",
        "How is Tesla stock trading?",
        "price of nvda",
        "Look up the stock price for Amazon (AMZN).",
        "What's the current quote for GOOGL?",
    ],
    "send_email": [
        "Email bob@example.com with subject 'Lunch' and say I'll be 10 minutes late.",
        "Send an email to alice@work.org titled 'Report' saying the report is attached.",
        "Write to team@startup.io: subject Launch, body: we ship on Monday.",
        "send carol@mail.com a note with subject 'Hi' and body 'Call me back.'",
        "Please email hr@company.com, subject 'Leave request', body 'I would like Friday off.'",
        "Notify dev@project.net by email that the build is green (subject: CI).",
    ],
    "set_timer": [
        "Set a timer for 10 minutes.",
        "Start a 25 minute pomodoro timer.",
        "Timer for an hour and a half please, label it laundry.",
        "remind me in 5 minutes to check the oven",
        "Set a 3-minute timer for the eggs.",
        "Can you start a timer of 45 minutes called study?",
    ],
    "convert_currency": [
        "Convert 100 USD to EUR.",
        "How much is 250 euros in Japanese yen?",
        "What's 75 GBP in US dollars?",
        "convert 1000 yen to dollars",
        "I have 40 Swiss francs (CHF); how many euros is that?",
        "Exchange 12.5 AUD into CAD.",
    ],
}


def tasks() -> list[Task]:
    """The 60 tasks in a fixed order, round-robin over the tools (so any first 10k cover each tool k
    times). The six requests of a tool offer the same three tools (so they can be decoded as one
    batch): it and two others, the right one first, second or third depending on the tool."""
    names = list(TOOLS)
    offered = {}
    for k, tool in enumerate(names):
        others = [names[(k + 3) % len(names)], names[(k + 6) % len(names)]]
        others.insert(k % 3, tool)
        offered[tool] = tuple(others)
    return [
        Task(prompt=_REQUESTS[tool][j], tool=tool, offered=offered[tool])
        for j in range(6)
        for tool in names
    ]
