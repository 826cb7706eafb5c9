"""Polls: see the collaboration issue."""
