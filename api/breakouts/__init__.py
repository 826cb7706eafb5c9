"""Breakout rooms: hosts split a meeting into rooms (planned by hand, automatically, or chosen by participants),
open them with an optional timer, move people, broadcast, answer help requests, and close them after a
countdown. See `service` for the design of deadlines."""
