"""The single-model ReAct baseline of alpha-UMi (Shen et al. 2024): one output thinks, then calls a tool or concludes.

    from ratiocinator.agents.react import ReActConfig, run
    result = run("What is 17*23?", backend=backend, config=ReActConfig(max_steps=4))
"""

from ratiocinator.agents.react.config import ReActConfig
from ratiocinator.agents.react.graph import build_graph, run
from ratiocinator.agents.react.prompts import BACKBONE, parse_backbone
from ratiocinator.agents.react.result import ReActResult

__all__ = ["BACKBONE", "ReActConfig", "ReActResult", "build_graph", "parse_backbone", "run"]
