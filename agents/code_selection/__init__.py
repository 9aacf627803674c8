"""B4 code selection (Chen et al., 2024): choose among generated solutions by how they pass generated tests.

    from ratiocinator.agents.code_selection import CodeSelectionConfig, CodeSelectionTask, run
    task = CodeSelectionTask(prompt="def add(a, b):\n    # return a + b\n", entry_point="add")
    result = run(task, backend=backend, config=CodeSelectionConfig(strategy="codet"))

The algorithm (sandbox, passing matrix, B4 and its baselines) is the engine layer selection/; this
kit is the method over it: sample what the task lacks, execute, select, check what can be checked.
"""

from ratiocinator.agents.code_selection.config import CodeSelectionConfig, Strategy
from ratiocinator.agents.code_selection.graph import build_graph, run
from ratiocinator.agents.code_selection.nodes import CodeSelectionState, make_executor
from ratiocinator.agents.code_selection.result import CodeSelectionResult, MatrixSummary
from ratiocinator.agents.code_selection.task import CodeSelectionTask

__all__ = [
    "CodeSelectionConfig",
    "CodeSelectionResult",
    "CodeSelectionState",
    "CodeSelectionTask",
    "MatrixSummary",
    "Strategy",
    "build_graph",
    "make_executor",
    "run",
]
