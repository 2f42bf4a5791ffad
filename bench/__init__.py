"""Benchmarks for mlscope: a synthetic mlruns generator and a harness that races mlscope against MLflow's server."""
