"""Choosing the best of many generated candidates with generated tests (sandbox, execution, B4)."""
