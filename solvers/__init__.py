"""Exact engines with no language model inside: PDDL planning, optimization, symbolic math."""
