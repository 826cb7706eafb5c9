from __future__ import annotations

import json

import pytest

from api.graphql.strict_json import JSONRejected, decode


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"n": ' + b"7" * 5000 + b"}", "5,000 digits"),
        (b"-" + b"1" * 65, "65 digits"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        (b'{"q": "\xff"}', "not UTF-8"),
        (b"\xc3", "not UTF-8"),
        (b"NaN", "NaN is not JSON"),
        (b"[-Infinity]", "-Infinity is not JSON"),
        (b"1e999999", "out of range"),
        (b"[-1e400]", "out of range"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"x": {"a": 1, "b": 2, "a": 3}}', "duplicate key 'a'"),
        (b'"\\ud800"', "lone UTF-16 surrogate"),
        (b'{"\\udfff": 1}', "lone UTF-16 surrogate"),
        (b'[["\\ud800x"]]', "lone UTF-16 surrogate"),
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"{} {}", "not valid JSON"),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", "not valid JSON"),
    ],
)
def test_hostile_json_is_rejected_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(JSONRejected) as caught:
        decode(raw)
    assert reason in str(caught.value)
    # Callers that only know JSONDecodeError (Strawberry's WebSocket loop) catch it too.
    assert isinstance(caught.value, json.JSONDecodeError)


def test_valid_json_decodes_as_usual() -> None:
    assert decode(b'\xef\xbb\xbf{"a": [1, 2.5, -3e2, true, null, "\\u00e9\\ud83d\\ude00"]}') == {
        "a": [1, 2.5, -300.0, True, None, "\u00e9\U0001f600"]
    }
    assert decode('{"n": ' + "9" * 64 + "}") == {"n": int("9" * 64)}
    assert decode("  [ ]  ") == []
    assert decode(b'{"s": "' + b"x" * 1_000_000 + b'"}') == {"s": "x" * 1_000_000}
