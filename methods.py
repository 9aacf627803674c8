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
        name="tool-agent",
        description="alpha-UMi tool agent: a planner decides, a constrained caller calls one typed "
        "tool, a summarizer answers from the observations; verified when a checking tool's result "
        "is what the answer reports",
        kit="ratiocinator.agents.tool_agent",
        config_name="ToolAgentConfig",
        result_name="ToolAgentResult",
        input="a request (str); tools=[...] (default: the built-in checking tools)",
        api_name="run_tool_agent",
    ),
    Method(
        name="react",
        description="ReAct baseline of alpha-UMi: one model output per step thinks, then calls a tool "
        "or concludes",
        kit="ratiocinator.agents.react",
        config_name="ReActConfig",
        result_name="ReActResult",
        input="a request (str); tools=[...] (default: the built-in checking tools)",
        api_name="run_react",
    ),
    Method(
        name="llmp",
        description="LLM+P: the English problem becomes the domain's problem PDDL (grammar, error "
        "feedback, k-sample majority); a planner plans it and unified-planning validates the plan",
        kit="ratiocinator.agents.llmp",
        config_name="LLMPConfig",
        result_name="LLMPResult",
        input="a planning problem in English (str); domain= a domain name, folder, domain.pddl path or "
        "PDDL text (none: guessed from the text)",
        api_name="plan_from_text",
        chat_kind="planning",
    ),
    Method(
        name="llm-as-planner",
        description="LLM-as-planner (LLM+P's baseline): the model writes the plan itself under the "
        "domain's action grammar; validated only against a problem PDDL you give",
        kit="ratiocinator.agents.llm_as_planner",
        config_name="LLMAsPlannerConfig",
        result_name="LLMAsPlannerResult",
        input="a planning problem in English (str); domain= as llmp's; problem= a problem PDDL to "
        "validate the plan against (none: unverified)",
    ),
    Method(
        name="llmopt",
        description="LLMOPT: an optimization problem in English becomes a five-element formulation, an "
        "exact solver solves and re-checks it, and the engine's feedback drives self-correction",
        kit="ratiocinator.agents.llmopt",
        config_name="LLMOPTConfig",
        result_name="LLMOPTResult",
        input="an optimization problem in English (str)",
        api_name="optimize_from_text",
        chat_kind="optimization",
    ),
    Method(
        name="mamo-ode",
        description="Mamo ODE: a word problem becomes an ordinary differential equation that sympy dsolve "
        "(or scipy solve_ivp) solves for the value asked",
        kit="ratiocinator.agents.ode",
        config_name="ODEConfig",
        result_name="ODEResult",
        input="an ODE word problem in English (str)",
        api_name="solve_ode_from_text",
    ),
    Method(
        name="c-ip",
        description="conformal information pursuit: asks the question that most shrinks the expected "
        "conformal prediction set until the set is one label or the question budget is spent",
        kit="ratiocinator.agents.pursuit",
        config_name="PursuitConfig",
        result_name="PursuitResult",
        input="a PursuitTask (problem with its label set, query bank, prior draws, answerer); "
        "keyword thresholds= (calibrate)",
        api_name="run_pursuit",
    ),
    Method(
        name="ip",
        description="information pursuit (the C-IP paper's baseline): asks the question that most "
        "lowers the expected posterior entropy, up to the question budget",
        kit="ratiocinator.agents.pursuit",
        config_name="PursuitConfig",
        result_name="PursuitResult",
        input="a PursuitTask (problem with its label set, query bank, prior draws, answerer)",
        overrides={"method": "ip"},
    ),
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
    Method(
        name="deepcritic",
        description="DeepCritic: each step of a step-wise solution gets a critique and a second look, with "
        "sympy's verdict on its equations and arithmetic as evidence; reports the first wrong step",
        kit="ratiocinator.reasoning.critique",
        config_name="DeepCriticConfig",
        result_name="CritiqueResult",
        input="a problem (str); steps=[...] the solution to critique (none: the model writes one first)",
        api_name="run_critique",
    ),
    Method(
        name="deepcritic-refine",
        description="DeepCritic with refinement: the model solves, the critic finds the first wrong step, "
        "the model rewrites from there, and the new solution is critiqued again",
        kit="ratiocinator.reasoning.critique",
        config_name="DeepCriticConfig",
        result_name="CritiqueResult",
        input="a problem (str); steps=[...] optional (none: the model writes the solution first)",
        overrides={"max_refinements": 1},
    ),
    Method(
        name="derivation",
        description="sympy-checked derivations: the model writes equations from premises to a goal, sympy "
        "checks each line and the first that does not follow is fed back",
        kit="ratiocinator.reasoning.derivation",
        config_name="DerivationConfig",
        result_name="DerivationResult",
        input="a DerivationItem (premises, goal; reasoning.derivation.generate_item(seed))",
        api_name="run_derivation",
    ),
    Method(
        name="b4",
        description="B4 code selection: candidate solutions and tests sampled from the model (or given) run "
        "in the sandbox, and the candidate with the best Beta-Bernoulli posterior is chosen (CodeT, "
        "MBR-exec, MaxPass and random as strategies)",
        kit="ratiocinator.agents.code_selection",
        config_name="CodeSelectionConfig",
        result_name="CodeSelectionResult",
        input="a code task (CodeSelectionTask: a completion prompt and its entry point; optional "
        "candidates, tests and trusted tests)",
        api_name="select_code",
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
