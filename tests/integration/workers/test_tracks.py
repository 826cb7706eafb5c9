from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import av

from capture.tracks import iter_packets, read_recording, read_track
from protocol.jobs import TrackMeta

ROOT = Path(__file__).resolve().parents[3]


def test_recording_tracks_align_by_wall_clock(recording: Path) -> None:
    tracks = {t.meta.track_id: t for t in read_recording(recording)}
    assert set(tracks) == {"alice-camera", "alice-mic", "bob-camera", "bob-mic", "bob-screen"}
    t0 = tracks["alice-camera"].start
    assert abs(tracks["bob-camera"].start - t0 - 1.0) < 1e-6
    assert abs(tracks["bob-screen"].start - t0 - 2.5) < 1e-6
    assert 5.8 < tracks["alice-camera"].end - t0 < 6.1
    assert all(t.meta.closed for t in tracks.values())
    mic = tracks["alice-mic"]
    assert [(m.start - t0, m.end and m.end - t0) for m in mic.meta.mutes] == [(4.0, 5.0)]
    assert mic.muted_at(t0 + 4.5) and not mic.muted_at(t0 + 3.9)
    # The mute is a real gap in the packets: none between 4 s and 5 s of the track's clock.
    times = [float(p.pts * p.time_base) for p in iter_packets(mic.path) if p.pts is not None]
    assert not [t for t in times if 4.05 < t - times[0] < 4.95]
    # The resolution change survives remuxing: the decoder sees both sizes.
    with av.open(str(tracks["alice-camera"].path)) as c:
        sizes = {(f.width, f.height) for f in c.decode(video=0)}
    assert sizes == {(320, 180), (240, 240)}


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from protocol.jobs import TrackMeta
    from workers.synthetic import VideoSpec, _video_frames
    from capture.tracks import TrackWriter
    import av
    from fractions import Fraction

    path = Path(sys.argv[1])
    w = TrackWriter()
    w.open(path, "video", "vp8", TrackMeta("t", "p", "P", "video", "camera", "vp8", 90000, width=320, height=180))
    enc = av.CodecContext.create("libvpx", "w")
    enc.width, enc.height, enc.pix_fmt, enc.time_base = 320, 180, "yuv420p", Fraction(1, 15)
    enc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    for i, (frame, t) in enumerate(_video_frames(VideoSpec((200, 0, 0), 0, 3.0))):
        frame.pts = i
        for p in enc.encode(frame):
            w.write_packet(bytes(p), i * 6000, p.is_keyframe)
    print("written", flush=True)
    time.sleep(60)
    """
)


def test_writer_killed_mid_track_leaves_a_readable_file(tmp_path: Path) -> None:
    path = tmp_path / "t.mkv"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    meta = TrackMeta.from_json(path.with_suffix(".json").read_text())
    assert not meta.closed and meta.start_time is not None
    # 45 frames were written over 3 s; Matroska clusters close every second, so at least 2 s must be on disk.
    track = read_track(path)
    assert track.end - track.start >= 1.9
    with av.open(str(path)) as c:
        frames = []
        try:
            for f in c.decode(video=0):
                frames.append(f)
        except av.FFmpegError:
            pass
    assert len(frames) >= 30
    assert frames[0].width == 320
