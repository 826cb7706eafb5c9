"""Relay mesh: QUIC (aioquic) links that carry media between edges in different regions. Not built yet."""
