"""Contracts shared by api, edge, relay, workers and loadtests: ids, error codes, bus events, token claims.

Standard library only; these packages never import each other, they import this.
"""
