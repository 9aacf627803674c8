"""LLM-only reasoning loops as LangGraph graphs (critical questions, step-wise critique, checked derivations)."""
