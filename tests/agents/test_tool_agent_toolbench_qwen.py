"""One real ToolBench step (toolbench_ood.json, dialogue 1) on the embedded Qwen2.5-Coder-0.5B through llama.cpp, scored decisions (slow)."""

from __future__ import annotations

import json
import math

import pytest

from ratiocinator.agents.tool_agent.decide import choose_asked, choose_role
from ratiocinator.agents.tool_agent.ground import occurs
from ratiocinator.agents.tool_agent.prompts import DECISIONS
from ratiocinator.evals.benchmark import Context, get

# X-PLUG/Multi-LLM-Agent's out-of-domain test set, dialogue 1, up to its first call
DIALOGUE = {
    "tools": [
        {
            "Name": "search_for_youtube_search",
            "function": 'This is the subfunction for tool "youtube_search", you can use this tool.The '
            'description of this function is: "Search video on YouTube"',
            "input": {"q": "string, ", "c": "string, "},
        }
    ],
    "instruction": "",
    "conversations": [
        {
            "from": "user",
            "value": "My friends and I are planning a movie night and we want to watch some entertaining "
            "YouTube Shorts. Can you fetch a variety of YouTube Shorts URLs for us using the keyword "
            "'comedy'? We would appreciate having multiple videos to choose from. Thanks!",
        },
        {
            "from": "assistant",
            "value": "The user wants to watch entertaining YouTube Shorts for a movie night with friends "
            "and has requested a variety of URLs based on the keyword 'comedy'. I will call the "
            "'search_for_youtube_search' function to fetch multiple comedy YouTube Shorts URLs. Next: caller.",
        },
        {"from": "caller", "value": 'Action: search_for_youtube_search\nAction Input: {\n  "q": "comedy"\n}'},
    ],
}


@pytest.fixture(scope="module")
def llamacpp_qwen():
    from ratiocinator.models import load_backend

    backend = load_backend("llamacpp:qwen2.5-coder-0.5b-instruct")
    yield backend
    backend.close()


@pytest.mark.slow
@pytest.mark.parametrize("decision", ["asked", "scored"])
def test_a_toolbench_step_decided_by_scores(llamacpp_qwen, tmp_path, decision):
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "toolbench_ood.json").write_text(json.dumps([DIALOGUE]))
    cls = get("toolbench-static")
    bench = cls(cls.parse_options({"decision": decision}), data_dir=tmp_path)
    (item,) = bench.items()
    out = bench.run(item, Context(backend=llamacpp_qwen))
    cfg = bench.options.config
    # the decision is the scores' (with the config's held-in calibration), whatever the model wrote
    if decision == "asked":  # the benchmark's default
        margins = out.output["margins"]
        assert margins["calls"] == 0.0 and all(math.isfinite(v) for v in margins.values())
        assert out.output["decision"] == choose_asked(margins, cfg.asked_weights, cfg.give_up_threshold)
    else:
        scores = out.output["scores"]
        assert set(scores) == set(DECISIONS) and all(math.isfinite(s) and s < 0 for s in scores.values())
        assert out.output["decision"] == choose_role(scores, cfg.decision_bias)
    assert out.metrics["plan_acc"] == float(out.output["decision"] == "caller")
    if out.output["decision"] == "caller":
        assert out.output["action"] == "search_for_youtube_search" and out.metrics["act_em"] == 1.0
        args = json.loads(out.output["action_input"])
        assert set(args) == {"q", "c"}  # every parameter asked for
        assert occurs(args["q"], DIALOGUE["conversations"][0]["value"]), args
