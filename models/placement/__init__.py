"""Placement: where to hold what, under uncertainty (two-stage stochastic MILP)."""
