"""The registry of methods: the chat, `ratiocinator eval run`, the Python API and `ratiocinator methods` all read it.

Each entry names a method kit (a subpackage of agents/ or reasoning/ with config.py, nodes.py,
graph.py and result.py; see kit/) and says in one line what it does. The paper and the defaults
come from the kit's config class, so they are written once. A variant of a kit (IP is conformal
information pursuit without the conformal step) is an entry with config `overrides`.

    import ratiocinator.methods as methods
    m = methods.get("cqot")
    result = m.run("How many ...?", backend=backend, config=m.config(max_redrafts=3))
    methods.describe()   # what `ratiocinator methods --json` prints

The registry imports nothing heavy until a method is used: `config_class` imports the kit's
package (and so its graph), `describe()` every kit's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ratiocinator.errors import InvalidInput


@dataclass(frozen=True, kw_only=True)
class Method:
    """One registered method: its name, what it does, and where its kit lives."""

    name: str
    description: str  # one line
    kit: str  # the kit's package, e.g. "ratiocinator.reasoning.cqot"
    config_name: str  # the config class, exported by the kit's package
    result_name: str  # the result class, exported by the kit's package
    input: str  # what `run` takes first, in words
    overrides: Mapping[str, Any] = field(default_factory=dict)  # a variant's config changes
    api_name: str | None = None  # the name `ratiocinator.<api_name>` gives this method's `run`
    #: the kind of chat request this method answers (agents/chat offers it as a tool for that kind)
    chat_kind: str | None = None

    def module(self) -> Any:
        return importlib.import_module(self.kit)

    @property
    def config_class(self) -> type[Any]:
        return getattr(self.module(), self.config_name)

    @property
    def result_class(self) -> type[Any]:
        return getattr(self.module(), self.result_name)

    @property
    def paper(self) -> str:
        return self.config_class.paper

    def config(self, **values: Any) -> Any:
        """The method's config with this entry's overrides and then `values` (validated; errors name the field)."""
        return self.config_class.from_values({**self.overrides, **values}, where=f"method {self.name}")

    @property
    def run(self) -> Callable[..., Any]:
        """`run(input, *, backend, config=None) -> Result`, with this entry's overrides when no config is given."""
        run = self.module().run
        if not self.overrides:
            return run

        def run_variant(input: Any, *, backend: Any, config: Any = None, **kwargs: Any) -> Any:
            return run(input, backend=backend, config=config or self.config(), **kwargs)

        run_variant.__doc__ = run.__doc__
        return run_variant

    def describe(self) -> dict[str, Any]:
        """Name, paper, description, input, entry point and config fields with their defaults."""
        fields = self.config_class.fields()
        for f in fields:
            if f["name"] in self.overrides:
                f["default"] = self.overrides[f["name"]]
        return {
            "name": self.name,
            "paper": self.paper,
            "description": self.description,
            "input": self.input,
            "entry_point": f"{self.kit}:run",
            "config": f"{self.kit}:{self.config_name}",
            "result": f"{self.kit}:{self.result_name}",
            "overrides": dict(self.overrides),
            "chat_kind": self.chat_kind,
            "fields": fields,
        }


#: every method, in the order `ratiocinator methods` lists them
METHODS: tuple[Method, ...] = (
    Method(
        name="cqot",
        description="critical-questions-of-thought: a reasoning plan is redrafted until it passes eight "
        "critical questions, then the answer follows it",
        kit="ratiocinator.reasoning.cqot",
        config_name="CQoTConfig",
        result_name="CQoTResult",
        input="a question (str)",
        api_name="run_cqot",
    ),
)


def names() -> list[str]:
    return [m.name for m in METHODS]


def get(name: str) -> Method:
    """The method registered as `name`, or an InvalidInput that lists the known ones."""
    for m in METHODS:
        if m.name == name:
            return m
    raise InvalidInput(f"unknown method {name!r}; known methods: {', '.join(names())} "
                       "(`ratiocinator methods` describes them)")


def describe() -> list[dict[str, Any]]:
    return [m.describe() for m in METHODS]
