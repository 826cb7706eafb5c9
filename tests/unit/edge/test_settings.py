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
            "EDGE_JOIN_TOKEN_TTL_S": "600",
            "EDGE_MAX_MESSAGE_BYTES": "65536",
            "EDGE_MAX_PUBLISH_BITRATE": "1000000",
            "EDGE_CAPTIONS": "1",
            "EDGE_CAPTIONS_MODEL": "/models/small.en",
            "EDGE_CAPTIONS_LANGUAGE": " DE ",
        }
    )
    assert s.captions and s.captions_model == "/models/small.en" and not Settings.from_env({}).captions
    assert s.captions_language == "de" and Settings.from_env({}).captions_language == ""
    assert s.port == 9000 and s.join_timeout_s == 2.5 and s.token_leeway_s == 0
    assert s.join_key_file == Path("/etc/meetmesh/join.pem")
    assert s.join_token_ttl_s == 600 and Settings.from_env({}).join_token_ttl_s == 300  # API_JOIN_TOKEN_TTL's default
    assert s.max_message_bytes == 65536
    assert s.max_publish_bitrate == 1_000_000 and Settings.from_env({}).max_publish_bitrate == 2_500_000


@pytest.mark.parametrize(
    ("var", "value", "why"),
    [
        ("EDGE_JOIN_TIMEOUT_S", "0", r"EDGE_JOIN_TIMEOUT_S must be > 0 \(got 0.0\)"),
        ("EDGE_PORT", "70000", r"EDGE_PORT must be 1..65535 \(got 70000\)"),
        ("EDGE_TOKEN_LEEWAY_S", "-1", "EDGE_TOKEN_LEEWAY_S must be >= 0"),
        ("EDGE_JOIN_TOKEN_TTL_S", "0", "EDGE_JOIN_TOKEN_TTL_S must be >= 1"),
        ("EDGE_MAX_MESSAGE_BYTES", "10", "EDGE_MAX_MESSAGE_BYTES must be >= 1024"),
        ("EDGE_MAX_PUBLISH_BITRATE", "1000", "EDGE_MAX_PUBLISH_BITRATE must be >= 150000"),
        ("EDGE_CAPTIONS_THREADS", "0", "EDGE_CAPTIONS_THREADS must be >= 1"),
    ],
)
def test_nonsense_is_refused(var: str, value: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Settings.from_env({var: value})


def test_speaker_policy_defaults_and_overrides() -> None:
    d = Settings.from_env({})
    assert (d.last_n, d.top_audio_threshold, d.top_audio_n, d.audio_hang_s) == (25, 50, 3, 2.0)
    s = Settings.from_env(
        {"EDGE_LAST_N": "0", "EDGE_TOP_AUDIO_THRESHOLD": "100", "EDGE_TOP_AUDIO_N": "5", "EDGE_AUDIO_HANG_S": "0.5"}
    )
    assert (s.last_n, s.top_audio_threshold, s.top_audio_n, s.audio_hang_s) == (0, 100, 5, 0.5)


@pytest.mark.parametrize(
    ("var", "value", "why"),
    [
        ("EDGE_LAST_N", "-1", r"EDGE_LAST_N must be >= 0 \(got -1\)"),
        ("EDGE_TOP_AUDIO_THRESHOLD", "-5", r"EDGE_TOP_AUDIO_THRESHOLD must be >= 0 \(got -5\)"),
        ("EDGE_TOP_AUDIO_N", "0", r"EDGE_TOP_AUDIO_N must be >= 1 \(got 0\)"),
        ("EDGE_AUDIO_HANG_S", "-0.1", r"EDGE_AUDIO_HANG_S must be >= 0 \(got -0.1\)"),
    ],
)
def test_nonsense_speaker_policy_is_refused(var: str, value: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Settings.from_env({var: value})
