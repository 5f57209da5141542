"""Solver backends behind the registry: one module per solver family."""
