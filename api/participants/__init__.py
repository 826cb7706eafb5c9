"""Participants: joining, the waiting room, presence and host controls."""
