"""The built-in benchmarks, one module each; registered by name in `evals.benchmark` and imported on demand."""
