from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.integration.workers.conftest import BLUE, GREEN, RED, participants
from workers.compose import ComposeOptions, compose
from workers.layout import featured, fit
from workers.screen_marks import FILE
from workers.synthetic import T0, AudioSpec, ParticipantSpec, VideoSpec, write_recording

OPTS = ComposeOptions(width=640, height=360, fps=15, thumbnail_interval_s=2.0)


def frame_at(mp4: str, t: float) -> np.ndarray:
    """The RGB frame showing at `t` seconds."""
    with av.open(mp4) as c:
        best = None
        for f in c.decode(video=0):
            if f.time is not None and f.time <= t + 1e-3:
                best = f
            else:
                break
        assert best is not None
        return best.to_ndarray(format="rgb24")


def colour(img: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    patch = img[y - 5 : y + 5, x - 5 : x + 5].reshape(-1, 3).mean(axis=0)
    return (int(patch[0]), int(patch[1]), int(patch[2]))


def near(c: tuple[int, int, int], want: tuple[int, int, int], tol: int = 40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(c, want, strict=True))


@pytest.fixture(scope="module")
def gallery(recording: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("gallery")
    seen: list[float] = []
    result = compose(recording, out, "gallery", OPTS, seen.append)
    assert seen[-1] == 100.0 and seen == sorted(seen) and len(seen) > 3
    return out, result


def test_gallery_outputs(gallery: tuple[Path, object]) -> None:
    out, _ = gallery
    mp4 = out / "recording-gallery.mp4"
    with av.open(str(mp4)) as c:
        assert c.duration is not None and abs(c.duration / 1e6 - 6.0) <= 0.5
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
        assert (c.streams.video[0].width, c.streams.video[0].height) == (640, 360)
    # faststart: the index (moov) precedes the media data (mdat).
    head = mp4.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 4096)
    with av.open(str(out / "recording.m4a")) as c:
        assert [s.type for s in c.streams] == ["audio"] and abs(c.duration / 1e6 - 6.0) <= 0.5
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    assert np.sqrt(np.mean(pcm**2)) > 0.01  # speech, not silence
    thumbs = sorted(p.name for p in (out / "thumbnails-gallery").iterdir())
    assert thumbs == ["000000.jpg", "000002.jpg", "000004.jpg"]
    for p in [out / "poster-gallery.jpg", *(out / "thumbnails-gallery").iterdir()]:
        with av.open(str(p)) as c:
            assert next(c.decode(video=0)).width in (320, 640)
    assert not list(out.glob(".*.part"))


def test_gallery_tiles_follow_joins_and_shares(gallery: tuple[Path, object]) -> None:
    mp4 = str(gallery[0] / "recording-gallery.mp4")
    alone = frame_at(mp4, 0.5)  # only Alice: one full tile
    assert near(colour(alone, 320, 180), RED)
    two = frame_at(mp4, 1.5)  # Bob joined: Alice left, Bob right
    assert near(colour(two, 160, 180), RED) and near(colour(two, 480, 180), BLUE)
    three = frame_at(mp4, 3.0)  # Bob's screen share first, then the cameras, in a 2x2 grid
    assert near(colour(three, 160, 90), GREEN)
    assert near(colour(three, 480, 90), RED)  # Alice's camera is square since 2 s: still in her tile
    assert near(colour(three, 160, 270), BLUE)


def test_rerun_skips_and_changed_input_recomposes(
    recording: Path, gallery: tuple[Path, object], tmp_path: Path
) -> None:
    out, first = gallery
    again = compose(recording, out, "gallery", OPTS)
    assert again.skipped and again.digest == first.digest  # type: ignore[attr-defined]
    other = compose(recording, out, "gallery", ComposeOptions(width=320, height=180, fps=15))
    assert not other.skipped and other.digest != first.digest  # type: ignore[attr-defined]
    manifest = json.loads((out / "compose-gallery.json").read_text())
    assert manifest["digest"] == other.digest


def test_speaker_layout_features_the_loudest(recording: Path, tmp_path: Path) -> None:
    result = compose(recording, tmp_path, "speaker", OPTS)
    # Alice speaks first; Bob's sentence runs on after hers ends.
    assert result.speakers[0] == "alice" and result.speakers[9] == "bob"
    mp4 = result.mp4
    assert near(colour(frame_at(mp4, 0.5), 320, 140), RED)
    late = frame_at(mp4, 4.75)
    assert near(colour(late, 320, 140), BLUE)  # Bob big
    # Alice in the strip below: a 128x72 slot centred at x=320 from y=288; her square video fits 72x72 in it.
    assert near(colour(late, 320, 324), RED)


def test_screen_layout_features_the_share(recording: Path, tmp_path: Path) -> None:
    result = compose(recording, tmp_path, "screen", OPTS)
    mp4 = result.mp4
    assert near(colour(frame_at(mp4, 3.0), 320, 140), GREEN)
    # No share before 2.5 s: falls back to the gallery.
    assert near(colour(frame_at(mp4, 1.5), 160, 180), RED)


def test_a_retry_gives_the_same_bytes(recording: Path, tmp_path: Path) -> None:
    opts = ComposeOptions(width=320, height=180, fps=10)
    first = compose(recording, tmp_path / "a", "speaker", opts)
    second = compose(recording, tmp_path / "b", "speaker", opts)
    assert not second.skipped
    for name in ("recording-speaker.mp4", "recording.m4a", "poster-speaker.jpg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.digest == second.digest


def test_tiles_carry_names_and_stereo_stays_stereo(tmp_path: Path) -> None:
    t = np.arange(48_000 * 3) / 48_000
    left_only = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1).astype(np.float32)
    rec = write_recording(
        tmp_path / "rec",
        [
            ParticipantSpec(
                "g", "Grace Hopper", video=VideoSpec(RED, 0.0, 3.0), audio=AudioSpec(0.0, 3.0, pcm=left_only)
            ),
            ParticipantSpec("h", "Hal", video=VideoSpec(BLUE, 0.0, 3.0)),
        ],
    )
    named = compose(rec, tmp_path / "named", "gallery", OPTS)
    plain = compose(rec, tmp_path / "plain", "gallery", ComposeOptions(**{**OPTS.__dict__, "labels": False}))
    a, b = frame_at(named.mp4, 1.0), frame_at(plain.mp4, 1.0)
    # Each tile's bottom-left band differs (dark band, light text); the tile centres are unchanged.
    # (Two 320x180 pictures in 320x360 boxes: the pictures span rows 90-270; the band sits just above 270.)
    for x0 in (0, 320):
        band = np.abs(a[253:266, x0 + 6 : x0 + 30].astype(int) - b[253:266, x0 + 6 : x0 + 30].astype(int))
        assert band.mean() > 40, (x0, band.mean())
        assert (a[250:270, x0 + 4 : x0 + 60] > 200).all(axis=2).sum() > 20  # white text pixels
    assert near(colour(a, 160, 180), RED) and near(colour(a, 480, 180), BLUE)
    # Grace's left-only tone stays on the left.
    for path in (named.m4a, named.mp4):
        with av.open(path) as c:
            stream = c.streams.audio[0]
            assert stream.channels == 2, path
            frames = list(c.decode(audio=0))
            pcm = np.concatenate(
                [f.to_ndarray().T if f.format.is_planar else f.to_ndarray().reshape(-1, 2) for f in frames]
            )
        left, right = np.sqrt(np.mean(pcm[:, 0] ** 2)), np.sqrt(np.mean(pcm[:, 1] ** 2))
        assert left > 0.1 and right < left / 10, (left, right)


def test_mono_sources_give_mono(gallery: tuple[Path, object]) -> None:
    with av.open(str(gallery[0] / "recording.m4a")) as c:
        assert c.streams.audio[0].channels == 1


def test_marks_drawn_on_a_screen_share_are_in_the_recording(tmp_path: Path) -> None:
    # Bob shares his screen from 2.5 s to 4.5 s. Two marks go on it at 2.8 s: a long one across the middle that
    # fades out with time, and a short one that its author clears at 3.4 s. Both in the shared picture's own
    # coordinates, so they land on the same spot of the picture whatever the tile.
    rec = write_recording(tmp_path / "rec", participants())
    across = {"color": "#d1242f", "size": 0.03, "points": [[0.1, 0.5], [0.5, 0.52], [0.9, 0.5]], "by": 1}
    short = {"color": "#0969da", "size": 0.03, "points": [[0.3, 0.15], [0.3, 0.35]], "by": 2}
    events = [
        {"at": T0 + 2.8, "sharer": "bob", "op": "add", "mark": across},
        {"at": T0 + 2.8, "sharer": "bob", "op": "add", "mark": short},
        {"at": T0 + 3.4, "sharer": "bob", "op": "remove", "mark": short},
        {"at": T0 + 3.5, "sharer": "alice", "op": "add", "mark": across},  # Alice shares no screen: nowhere
    ]
    (rec / FILE).write_text("".join(json.dumps(e) + "\n" for e in events) + '{"torn": ')
    result = compose(rec, tmp_path / "out", "screen", OPTS)
    box = featured("bob-screen", ["alice-camera", "bob-camera"], OPTS.width, OPTS.height)["bob-screen"]
    picture = fit(480, 270, box)

    def at(img: np.ndarray, fx: float, fy: float) -> tuple[int, int, int]:
        return colour(img, round(picture.x + fx * picture.w), round(picture.y + fy * picture.h))

    before, during, after_clear = (frame_at(result.mp4, t) for t in (2.6, 3.0, 3.8))
    assert near(at(before, 0.5, 0.51), GREEN) and near(at(before, 0.3, 0.25), GREEN)
    assert near(at(during, 0.5, 0.51), (209, 36, 47)), at(during, 0.5, 0.51)
    assert near(at(during, 0.3, 0.25), (9, 105, 218)), at(during, 0.3, 0.25)
    assert near(at(during, 0.5, 0.8), GREEN)  # away from the marks the share is untouched
    assert near(at(after_clear, 0.5, 0.51), (209, 36, 47))  # still within its 6 s
    assert near(at(after_clear, 0.3, 0.25), GREEN)  # cleared at 3.4 s
    # The same recording without the marks file composes to other bytes (the marks are part of the input digest).
    plain = compose(write_recording(tmp_path / "plain", participants()), tmp_path / "plain-out", "screen", OPTS)
    assert plain.digest != result.digest
    assert near(at(frame_at(plain.mp4, 3.0), 0.5, 0.51), GREEN)
