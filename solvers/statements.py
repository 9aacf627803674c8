"""What a problem text states in symbols: its numbers, and the objective and constraints it writes as formulas (sympy).

    stated = read_text("Maximize 3x + 5y subject to x <= 4, 2y <= 12, x, y >= 0.")
    stated.objective       # Stated(text="3x + 5y", expression=3*x + 5*y, sense="maximize")
    stated.constraints     # Stated(text="x <= 4", ...), ..., x >= 0 and y >= 0 (a bound list is spread)
    stated.numbers         # every number of the text (digits, percentages, number words) and where it is
    stated.complete        # an objective is stated and every number of the text is inside a formula

A formula is a run of math tokens (numbers, names, + - * / ^, parentheses, <= >= = < >) in which two
names or numbers never stand side by side without an operator (`3x` is 3*x; `subject to x` is prose,
then a formula). So formulas are found inside prose without knowing the problem: "the total must be
at most 100" states nothing in symbols (its number is still a number of the text), "2y <= 12 hours"
states 2y <= 12. `x = chairs` (a name for a name) and `x = number of chairs` (a formula that runs on
into prose) are definitions, not constraints. Each formula is read by sympy's parser from a string
made of the run's own tokens only (nothing else is ever evaluated), with every name a plain Symbol
(`E`, `I`, `S` are not sympy's constants here) and powers limited to small literal exponents, so
reading a text is quick whatever it holds. Strict relations are read as non-strict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Sense = Literal["maximize", "minimize"]
FUNCTIONS = ("sqrt", "exp", "log", "sin", "cos")
MAX_EXPONENT = 12
MAX_FORMULAS = 200  # formulas read per text; more are reported unread (a text is not a database)
_NORMALIZE = {"≤": "<=", "≦": "<=", "⩽": "<=", "≥": ">=", "≧": ">=", "⩾": ">=", "−": "-", "–": "-",
              "×": "*", "·": "*", "⋅": "*"}
_LATEX = re.compile(r"\\(leqslant|geqslant|leq|geq|le|ge|cdot|times)(?![A-Za-z])")
_LATEX_SIGNS = {"leqslant": "<=", "geqslant": ">=", "leq": "<=", "geq": ">=", "le": "<=", "ge": ">=", "cdot": "*",
                "times": "*"}
_HTML = re.compile(r"</?(br|p|b|i|u|em|strong|sup|sub|td|tr|th|table|thead|tbody|div|span|li|ul|ol)\b[^<>\n]{0,40}>",
                   re.IGNORECASE)
_TOKEN = re.compile(
    r"(?P<num>(?<![\w.])(?:\d{1,15}(?:,\d{3})+(?!\d)|\d{1,15}(?:\.\d+)?|\.\d+))(?P<pct>\s?%)?(?P<attached>[A-Za-z_]\w*)?"
    r"|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<rel><=|>=|==|=<|=>|=|<|>)"
    r"|(?P<op>\*\*|[-+*/^])"
    r"|(?P<open>\()|(?P<close>\))"
    r"|(?P<space>[ \t]+)"
    r"|(?P<other>[\s\S])"
)
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100,
          "thousand": 1000, "million": 1_000_000, "half": 0.5, "twice": 2, "double": 2, "triple": 3,
          "dozen": 12, "quarter": 0.25}
_KEYWORDS = {"and", "or", "not", "in", "is", "if", "else", "for", "lambda", "def", "return", "with", "as",
             "from", "import", "while", "del", "pass", "class", "None", "True", "False", "yield", "assert",
             "try", "except", "raise", "global", "nonlocal", "async", "await", "break", "continue", "elif",
             "finally"}
_SENSES = {"maximize": "maximize", "maximise": "maximize", "max": "maximize", "minimize": "minimize",
           "minimise": "minimize", "min": "minimize"}
_RELATIONS = {"<=": "<=", "=<": "<=", "<": "<=", ">=": ">=", "=>": ">=", ">": ">=", "=": "==", "==": "=="}
_JOINERS = {"and", "or", "where", "with", "for", "subject", "such", "s", "st", "while"}
INTEGER_WORDS = re.compile(r"\b(integers?|integral|whole numbers?|binary)\b", re.IGNORECASE)
NONNEGATIVE_WORDS = re.compile(r"\bnon-?negative\b", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    kind: str  # num, name, rel, op, open, close, other
    text: str
    start: int
    end: int
    value: float | None = None  # a number's value as written (20 for 20%)
    attached: str | None = None  # `3x`: the name written right after the number
    spaced: bool = False  # whitespace before it
    percent: bool = False


@dataclass(frozen=True, kw_only=True)
class Number:
    """A number the text states: its value, as written, and where it starts."""

    value: float
    written: str
    start: int
    percent: bool = False


@dataclass(frozen=True, kw_only=True)
class Stated:
    """A formula of the text: the objective (`sense` set, `expression` an expression) or a constraint
    (`op` one of <=, >=, ==; `lhs` and `rhs` sympy expressions)."""

    text: str
    start: int
    end: int
    lhs: Any = None
    rhs: Any = None
    op: str = ""
    expression: Any = None
    sense: Sense | None = None

    @property
    def symbols(self) -> set[Any]:
        parts = [self.expression] if self.sense else [self.lhs, self.rhs]
        return set().union(*(p.free_symbols for p in parts))

    def normal(self) -> tuple[Any, str]:
        """(e, op) with the constraint as `e <= 0` or `e == 0`."""
        if self.op == ">=":
            return self.rhs - self.lhs, "<="
        return self.lhs - self.rhs, self.op


@dataclass(frozen=True, kw_only=True)
class TextStatements:
    """Everything `read_text` found: the stated objective, constraints, definitions and numbers.

    A definition `NAME = number` (`m = 2140`, `Cost = 10`) names a constant, unless NAME is a variable
    of the formulation it is compared with: `as_constraints` then makes it a constraint.
    """

    text: str
    objective: Stated | None = None
    constraints: tuple[Stated, ...] = ()
    definitions: tuple[Stated, ...] = ()
    numbers: tuple[Number, ...] = ()
    unread: tuple[str, ...] = field(default_factory=tuple)  # formulas that could not be read safely

    def in_formula(self, number: Number) -> bool:
        spans = [(c.start, c.end) for c in (*self.constraints, *([self.objective] if self.objective else []))]
        return any(a <= number.start < b for a, b in spans)

    @property
    def outside(self) -> list[Number]:
        """The numbers that are in no formula read here."""
        return [n for n in self.numbers if not self.in_formula(n)]

    @property
    def complete(self) -> bool:
        """The whole problem is stated in symbols: an objective, and no number outside a formula."""
        return self.objective is not None and not self.unread and not self.outside

    @property
    def says_integer(self) -> bool:
        return bool(INTEGER_WORDS.search(self.text))

    @property
    def says_nonnegative(self) -> bool:
        return bool(NONNEGATIVE_WORDS.search(self.text))

    def as_constraints(self, names: set[str]) -> TextStatements:
        """The same, with the definitions of these names taken as constraints."""
        moved = tuple(d for d in self.definitions if str(d.lhs) in names)
        if not moved:
            return self
        return replace(self, constraints=self.constraints + moved,
                       definitions=tuple(d for d in self.definitions if d not in moved))


def normalize(text: str) -> str:
    """Unicode and LaTeX relation signs as ASCII; HTML tags (`<br>`) as spaces."""
    for old, new in _NORMALIZE.items():
        text = text.replace(old, new)
    text = _LATEX.sub(lambda m: _LATEX_SIGNS[m.group(1)], text)
    return _HTML.sub(lambda m: " " * len(m.group(0)), text)


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    spaced = False
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup if m.group("num") is None else "num"
        if kind in ("space", "pct", "attached"):
            spaced = True
            continue
        if kind == "num":
            value = float(m.group("num").replace(",", ""))
            out.append(Token("num", m.group(0), m.start(), m.end(), value, m.group("attached"), spaced,
                             m.group("pct") is not None))
        elif kind == "name" and m.group(0) in _KEYWORDS:
            out.append(Token("other", m.group(0), m.start(), m.end(), spaced=spaced))
        else:
            out.append(Token(kind or "other", m.group(0), m.start(), m.end(), spaced=spaced))
        spaced = False
    return out


def _atom(t: Token) -> bool:
    return t.kind in ("num", "name", "close")


def runs(toks: list[Token]) -> list[list[Token]]:
    """Maximal runs of math tokens in which no two atoms stand side by side."""
    found: list[list[Token]] = []
    run: list[Token] = []
    for t in toks:
        prev = run[-1] if run else None
        breaks = t.kind == "other" or (prev is not None and (
            (_atom(prev) and t.kind in ("num", "name"))
            or (t.kind == "open" and _atom(prev) and not (prev.kind == "name" and prev.text in FUNCTIONS))))
        if breaks and run:
            found.append(run)
            run = []
        if t.kind != "other":
            run.append(t)
    if run:
        found.append(run)
    return found


class _Unsafe(Exception):
    """A formula this module does not evaluate (a power beyond MAX_EXPONENT, a tower of powers)."""


def _source(part: list[Token]) -> str | None:
    """The Python text of an expression made of these tokens, or None when it is not a formula."""
    pieces: list[str] = []
    for i, t in enumerate(part):
        if t.kind == "num":
            if t.attached in _KEYWORDS:
                return None
            pieces.append(f"({t.value!r}/100)" if t.percent else repr(t.value))
            pieces[-1] += f"*{t.attached}" if t.attached else ""
        elif t.kind == "op" and t.text in ("^", "**"):
            nxt = part[i + 1] if i + 1 < len(part) else None
            after = part[i + 2] if i + 2 < len(part) else None
            if nxt is None or nxt.kind not in ("num", "name", "open"):
                return None
            if nxt.kind != "num" or nxt.attached or (nxt.value or 0) > MAX_EXPONENT \
                    or (after is not None and after.kind == "op" and after.text in ("^", "**")):
                raise _Unsafe
            pieces.append("**")
        else:
            pieces.append(t.text)
    return " ".join(pieces)


def _expression(part: list[Token]) -> Any:
    """A sympy expression of the tokens (every name a Symbol, the five functions sympy's), or None.

    Raises _Unsafe for a formula it does not evaluate."""
    if not part or part[0].kind in ("close", "rel") or (part[0].kind == "op" and part[0].text not in "+-") \
            or part[-1].kind in ("op", "open", "rel"):
        return None
    source = _source(part)
    if source is None:
        return None
    import sympy as sp
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    names = {t.text for t in part if t.kind == "name"} | {t.attached for t in part if t.attached}
    local: dict[str, Any] = {n: sp.Symbol(n) for n in names if n not in FUNCTIONS}
    local.update({f: getattr(sp, f) for f in FUNCTIONS if f in names})
    try:
        expr = parse_expr(source, local_dict=local, global_dict={"Integer": sp.Integer, "Float": sp.Float,
                                                                  "Symbol": sp.Symbol, "Rational": sp.Rational},
                          transformations=standard_transformations)
    except Exception:  # not a formula after all (unbalanced parentheses, a function used bare, ...)
        return None
    if not isinstance(expr, sp.Expr):
        return None
    return sp.nsimplify(expr, rational=True)


def _trim(run: list[Token]) -> list[Token]:
    """Without the parentheses of the prose around it: `(0 <= x <= 5)` and `(x <= 4` are `... <= ...`."""
    while run and run[0].kind == "open" and sum(t.kind == "open" for t in run) > sum(t.kind == "close" for t in run):
        run = run[1:]
    while run and run[-1].kind == "close" and sum(t.kind == "close" for t in run) > sum(t.kind == "open" for t in run):
        run = run[:-1]
    if len(run) > 2 and run[0].kind == "open" and run[-1].kind == "close" and not any(
            t.kind in ("open", "close") for t in run[1:-1]):
        run = run[1:-1]
    return run


def _split(run: list[Token]) -> tuple[list[list[Token]], list[str]]:
    parts: list[list[Token]] = [[]]
    ops: list[str] = []
    for t in run:
        if t.kind == "rel":
            parts.append([])
            ops.append(_RELATIONS[t.text])
        else:
            parts[-1].append(t)
    return parts, ops


def _bare_name(part: list[Token]) -> str | None:
    return part[0].text if len(part) == 1 and part[0].kind == "name" else None


Found = tuple[Literal["constraints", "definition", "none", "unread"], list[Stated]]


def _relations(text: str, run: list[Token], follower: Token | None) -> Found:
    """What a run with relation signs states: constraints, a definition (`m = 10`), nothing, or unread."""
    parts, ops = _split(run)
    if follower is not None and run[-1].kind == "name" and follower.kind == "name" \
            and follower.text.lower() not in _JOINERS:
        return "none", []  # `x = number of chairs`: runs on into prose
    if len(ops) == 1 and ops[0] == "==" and _bare_name(parts[0]) and _bare_name(parts[1]):
        return "none", []  # `x = chairs`: a name for a name
    if len(ops) > 2 or (len(ops) == 2 and "==" in ops):
        return "none", []
    try:
        sides = [_expression(p) for p in parts]
    except _Unsafe:
        return "unread", []
    if any(s is None for s in sides) or not any(s.free_symbols for s in sides):
        return "none", []
    start, end = run[0].start, run[-1].end
    stated = [Stated(text=text[start:end], start=start, end=end, lhs=a, rhs=b, op=op)
              for op, a, b in zip(ops, sides, sides[1:], strict=False)]
    if len(ops) == 1 and ops[0] == "==" and _bare_name(parts[0]) and not sides[1].free_symbols:
        return "definition", stated
    return "constraints", stated


_SCALED = re.compile(r"\s+(thousand|million|billion)\b", re.IGNORECASE)
#: the words that scale the number before them ("$1.6 million"); agents/llmopt/table.py reads numbers with them too
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}


_CAPTION = re.compile(r"\b(?:Table|Figure|Fig\.|Exhibit)\s+\d+(?:[-.]\d+)*")


def _numbers(text: str, toks: list[Token]) -> list[Number]:
    """The numbers the text states: each number token ("$1.6 million" is 1600000, one number) but a caption's
    ("Table 3.4", "Figure 2"), and the numbers written as words."""
    found, scaled = [], set()
    captions = [m.span() for m in _CAPTION.finditer(text)]  # "Table 1-17": a caption's number is no datum
    for t in (t for t in toks if t.kind == "num" and not any(a <= t.start < b for a, b in captions)):
        scale = None if t.percent or t.attached else _SCALED.match(text, t.end)
        value = (t.value or 0.0) * (SCALES[scale.group(1).lower()] if scale else 1.0)
        found.append(Number(value=round(value, 6), written=text[t.start:scale.end()] if scale else t.text,
                            start=t.start, percent=t.percent))
        scaled |= {scale.start(1)} if scale else set()
    for m in re.finditer(r"\b(" + "|".join(_WORDS) + r")\b", text, re.IGNORECASE):
        if m.start() not in scaled:
            found.append(Number(value=float(_WORDS[m.group(1).lower()]), written=m.group(1), start=m.start()))
    return sorted(found, key=lambda n: n.start)


def _gap(text: str, a: list[Token], b: list[Token]) -> str:
    return text[a[-1].end:b[0].start].strip().lower()


def _spread_bounds(text: str, found: list[tuple[int, list[Token], list[Stated]]],
                   all_runs: list[list[Token]]) -> list[Stated]:
    """`x, y >= 0`: the names listed before a bound on a name get the same bound."""
    out: list[Stated] = []
    for index, run, stated in found:
        names: list[list[Token]] = []
        j = index - 1
        while j >= 0 and _bare_name(all_runs[j]) and _gap(text, all_runs[j], all_runs[j + 1]) in (",", "and", ", and"):
            names.insert(0, all_runs[j])
            j -= 1
        first = stated[0] if len(stated) == 1 else None
        if names and first is not None and _bare_name(_split(run)[0][0]) and first.lhs.is_Symbol:
            import sympy as sp

            start = names[0][0].start
            for n in names:
                out.append(Stated(text=f"{n[0].text} {first.op} {first.rhs}", start=start, end=first.end,
                                  lhs=sp.Symbol(n[0].text), rhs=first.rhs, op=first.op))
            stated = [replace(first, start=start)]
        out.extend(stated)
    return out


def _objective(text: str, all_runs: list[list[Token]], variables: set[str]) -> tuple[int, Stated] | None:
    """(index of its run, the objective) after a maximize/minimize keyword, skipping a few prose words.

    Its names must be names of the stated constraints, or it must be written like a formula (`3x`)."""
    for i, run in enumerate(all_runs):
        name = _bare_name(run)
        if name is None or name.lower() not in _SENSES:
            continue
        sense: Sense = _SENSES[name.lower()]  # type: ignore[assignment]
        for j in range(i + 1, min(i + 6, len(all_runs))):
            if _gap(text, all_runs[j - 1], all_runs[j]) not in ("", ":"):
                break
            bare = _bare_name(all_runs[j])
            if bare is not None and bare not in variables:  # a prose word ("the", "profit"): skip it
                continue
            parts, ops = _split(_trim(all_runs[j]))
            if ops == ["=="] and _bare_name(parts[0]):
                part = parts[1]
            elif not ops:
                part = parts[0]
            else:
                break
            try:
                expression = _expression(part)
            except _Unsafe:
                expression = None
            formula_like = any(t.attached for t in part) or (
                expression is not None and {str(s) for s in expression.free_symbols} <= variables)
            if expression is None or not expression.free_symbols or not formula_like:
                break
            start, end = all_runs[j][0].start, all_runs[j][-1].end
            return j, Stated(text=text[part[0].start:part[-1].end], start=start, end=end,
                             expression=expression, sense=sense)
    return None


def read_text(text: str) -> TextStatements:
    """The objective, constraints, definitions and numbers a problem text states (see the module docstring)."""
    text = normalize(text or "")
    toks = tokens(text)
    all_runs = runs(toks)
    position = {id(t): i for i, t in enumerate(toks)}
    found: list[tuple[int, list[Token], list[Stated]]] = []
    definitions: list[Stated] = []
    unread: list[str] = []
    relational = [i for i, run in enumerate(all_runs) if any(t.kind == "rel" for t in run)]
    if len(relational) > MAX_FORMULAS:
        unread.append(f"{len(relational)} formulas (more than {MAX_FORMULAS} are not read)")
    for i in relational[:MAX_FORMULAS]:
        run = all_runs[i]
        after = position[id(run[-1])] + 1
        kind, stated = _relations(text, _trim(run), toks[after] if after < len(toks) else None)
        if kind == "unread":
            unread.append(text[run[0].start:run[-1].end])
        elif kind == "definition":
            definitions.extend(stated)
        elif kind == "constraints":
            found.append((i, run, stated))
    variables = {str(s) for _, _, st in found for c in st for s in c.symbols}
    objective = _objective(text, all_runs, variables)
    if objective is not None:
        found = [f for f in found if f[0] != objective[0]]
    return TextStatements(text=text, objective=objective[1] if objective else None,
                          constraints=tuple(_spread_bounds(text, found, all_runs)), definitions=tuple(definitions),
                          numbers=tuple(_numbers(text, toks)), unread=tuple(unread))
