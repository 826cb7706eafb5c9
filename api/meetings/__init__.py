"""Meetings: scheduling, settings, lifecycle (scheduled → live → ended / cancelled)."""
