"""Benchmarks: ``python -m bench`` starts the API as a subprocess, measures it and merges into bench/results.json."""
