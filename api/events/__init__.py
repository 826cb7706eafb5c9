"""Subscriptions: a meeting's event stream, gap-free and in order, resumable by sequence number."""
