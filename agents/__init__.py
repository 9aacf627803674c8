"""LangGraph agents that compose the backend, the solvers and selection."""
