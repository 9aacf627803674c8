"""The base of every method's config: frozen, keyword-only, validated, self-describing (fields, defaults, descriptions).

A method's config subclasses `MethodConfig`, names its paper in the docstring and in `paper`, and
holds the paper's defaults and nowhere else; benchmarks hold the config object instead of
re-declaring its fields, and `ratiocinator methods --json` lists the fields from here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from ratiocinator.errors import InvalidInput

#: a config or options field marked `Field(..., json_schema_extra=IDENTITY_WHEN_SET)` joins a run's
#: identity (evals/benchmark.options_identity) only when it differs from its default, so a field added
#: later leaves the runs recorded before it resumable (and their hashes unchanged)
IDENTITY_WHEN_SET = {"identity": "when set"}


class MethodConfig(BaseModel):
    """Base of a method's config (pydantic, frozen, unknown fields refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the paper the method follows, as it is cited (authors, year, title)
    paper: ClassVar[str] = ""

    def __init__(self, **values: Any) -> None:
        """Keyword-only; a wrong value raises InvalidInput naming the field (not pydantic's ValidationError)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InvalidInput(describe_error(type(self), exc, where=type(self).__name__)) from None

    @classmethod
    def fields(cls) -> list[dict[str, Any]]:
        """Each field: name, type, default and description (what `ratiocinator methods --json` prints)."""
        out = []
        for name, f in cls.model_fields.items():
            default = f.get_default(call_default_factory=True)
            out.append(
                {
                    "name": name,
                    "type": _type_name(f.annotation),
                    "default": default if _jsonable(default) else repr(default),
                    "description": f.description or "",
                }
            )
        return out

    @classmethod
    def from_values(cls, values: dict[str, Any], *, where: str = "") -> MethodConfig:
        """Validate `values` (strings from a command line are coerced); an error names each field and the known ones."""
        try:
            return cls(**values)
        except InvalidInput as exc:
            if not where:
                raise
            raise InvalidInput(f"{where}: {exc}") from None


def describe_error(cls: type[BaseModel], exc: ValidationError, *, where: str) -> str:
    """One line per problem, then the fields the model knows with their defaults."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'options'}: "
        + ("unknown field" if e["type"] == "extra_forbidden" else e["msg"])
        for e in exc.errors()
    )
    known = ", ".join(f"{k} (default {f.default!r})" for k, f in cls.model_fields.items())
    return f"{where}: {problems}. Known fields: {known or 'none'}"


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None)
    return text if text and not getattr(annotation, "__args__", None) else str(annotation).replace("typing.", "")


def _jsonable(value: Any) -> bool:
    import json

    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
