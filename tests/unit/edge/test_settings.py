"""Edge settings: read once from EDGE_ variables, refused when they make no sense."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.settings import DEFAULT_JOIN_KEY_URL, Settings


def test_defaults_need_no_environment() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.join_key_url, s.join_key_file) == ("127.0.0.1", 8001, DEFAULT_JOIN_KEY_URL, None)


def test_environment_overrides() -> None:
    s = Settings.from_env(
        {
            "EDGE_HOST": "0.0.0.0",
            "EDGE_PORT": "9000",
            "EDGE_JOIN_KEY_URL": "https://api.example/.well-known/meetmesh/join-token-key",
            "EDGE_JOIN_KEY_FILE": "/etc/meetmesh/join.pem",
            "EDGE_JOIN_TIMEOUT_S": "2.5",
            "EDGE_TOKEN_LEEWAY_S": "0",
            "EDGE_MAX_MESSAGE_BYTES": "65536",
        }
    )
    assert s.port == 9000 and s.join_timeout_s == 2.5 and s.token_leeway_s == 0
    assert s.join_key_file == Path("/etc/meetmesh/join.pem")
    assert s.max_message_bytes == 65536


@pytest.mark.parametrize(
    ("var", "value", "why"),
    [
        ("EDGE_JOIN_TIMEOUT_S", "0", r"EDGE_JOIN_TIMEOUT_S must be > 0 \(got 0.0\)"),
        ("EDGE_PORT", "70000", r"EDGE_PORT must be 1..65535 \(got 70000\)"),
        ("EDGE_TOKEN_LEEWAY_S", "-1", "EDGE_TOKEN_LEEWAY_S must be >= 0"),
        ("EDGE_MAX_MESSAGE_BYTES", "10", "EDGE_MAX_MESSAGE_BYTES must be >= 1024"),
    ],
)
def test_nonsense_is_refused(var: str, value: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Settings.from_env({var: value})
