"""Arguments grounded in the dialogue: values found in it, which values are rescored, and the choice by score plus bonus."""

from __future__ import annotations

import json

from ratiocinator.agents.tool_agent import ToolAgentConfig, tool_context
from ratiocinator.agents.tool_agent.ground import dialogue_values, ground_arguments, occurs
from ratiocinator.agents.tool_agent.roles import call
from ratiocinator.models.scripted import ScriptedBackend

SCHEMA = {
    "type": "object",
    "properties": {"q": {"type": "string"}, "limit": {"type": "integer"}, "lang": {"type": "string", "enum": ["en"]}},
}
DIALOGUE = "user: Find YouTube Shorts with the keyword 'comedy', at most 5 of them, from Fun Tv 420."


class TableBackend(ScriptedBackend):
    """Scores each continuation by the JSON value it ends with (a table), recording what was scored."""

    def __init__(self, script=(), table=None):
        super().__init__(script)
        self.table = dict(table or {})
        self.scored: list[list[str]] = []

    def score(self, prompt, continuations):  # type: ignore[override]
        self.scored.append(list(continuations))
        return [next((v for k, v in self.table.items() if c.endswith(k)), -30.0) for c in continuations]


def _ctx(backend, **cfg):
    config = ToolAgentConfig(stream_tokens=False, grounding=True, **cfg)
    return tool_context(backend, config, {})


def test_values_found_in_a_dialogue():
    assert occurs("Comedy", DIALOGUE) and occurs(5, DIALOGUE) and occurs(420, DIALOGUE)
    assert not occurs("funny", DIALOGUE) and not occurs("", DIALOGUE) and not occurs(42, DIALOGUE)
    assert not occurs(True, DIALOGUE)
    words = dialogue_values(DIALOGUE, numeric=False)
    assert words == ["Find YouTube Shorts", "comedy", "5", "Fun Tv", "420"]  # in order of appearance
    assert dialogue_values(DIALOGUE, numeric=True) == [5, 420]


def test_an_ungrounded_value_yields_to_a_dialogue_value_within_the_bonus():
    # the model's own value scores 0.3 nats above "comedy"; the bonus (0.47) puts "comedy" ahead
    backend = TableBackend(table={'"funny"': -1.0, '"comedy"': -1.3})
    args = ground_arguments(_ctx(backend), "P", {"q": "funny", "limit": 5}, SCHEMA, DIALOGUE)
    assert args == {"q": "comedy", "limit": 5}
    (scored,) = backend.scored  # only the ungrounded value was rescored; the JSON up to the value is shared
    assert scored[0] == '{"q": "funny"' and '{"q": "comedy"' in scored
    assert len(scored) <= 1 + ToolAgentConfig().grounding_candidates


def test_a_much_likelier_ungrounded_value_is_kept():
    backend = TableBackend(table={'"funny"': -1.0, '"comedy"': -3.0})
    assert ground_arguments(_ctx(backend), "P", {"q": "funny"}, SCHEMA, DIALOGUE) == {"q": "funny"}


def test_grounded_values_enums_and_numbers():
    backend = TableBackend(table={"7": -0.5, "5": -1.5, "420": -4.0})
    args = ground_arguments(
        _ctx(backend), "P", {"q": "comedy", "lang": "en", "limit": 7}, SCHEMA, DIALOGUE
    )
    # "comedy" occurs (not rescored); an enum value is the schema's; 7 does not occur, but it scores
    # -0.5 against -1.5 + 0.47 for 5: the model's own number stays
    assert args == {"q": "comedy", "lang": "en", "limit": 7}
    assert backend.scored == [['{"q": "comedy", "lang": "en", "limit": 7', '{"q": "comedy", "lang": "en", "limit": 5',
                               '{"q": "comedy", "lang": "en", "limit": 420']]
    closer = TableBackend(table={"7": -0.5, "5": -0.8})
    assert ground_arguments(_ctx(closer), "P", {"limit": 7}, SCHEMA, DIALOGUE) == {"limit": 5}


def test_the_caller_grounds_its_arguments_in_the_dialogue():
    class Doc:
        def __init__(self):
            self.parameters = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}

    backend = TableBackend(['{"q": ""}'], table={'""': -0.2, '"comedy"': -0.5})
    config = ToolAgentConfig(stream_tokens=False, grounding=True, tool_choice="scored")
    ctx = tool_context(backend, config, {"search": Doc()}, docs="")
    pending, text, problem = call(ctx, "CALLER PROMPT", dialogue=DIALOGUE)
    assert problem == "" and pending is not None and pending.arguments == {"q": "comedy"}
    assert text == "Action: search\nAction Input: " + json.dumps({"q": "comedy"})
    # without a dialogue (or with grounding off) the caller's own value stands
    backend2 = TableBackend(['{"q": ""}'])
    assert call(tool_context(backend2, config, {"search": Doc()}, docs=""), "P")[0].arguments == {"q": ""}
    assert backend2.scored == []
