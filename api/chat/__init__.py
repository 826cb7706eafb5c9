"""Chat: see the collaboration issue."""
