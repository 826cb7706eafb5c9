"""Breakouts: see the collaboration issue."""
