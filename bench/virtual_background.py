"""Virtual background cost at 720p in Debian's headless Chromium (no GPU: WebGL and canvas in software).

One page opens a 1280x720 camera (a file camera with a person in it, testkit/person_video.py: Chromium's own test
pattern has no person, and the cost of compositing depends little on the picture but the model's input does not
change either way), shows it in a <video> as the pre-join preview does, and for ``WINDOW_S`` seconds each runs:
the camera alone (baseline), the camera through ``BackgroundEffect`` with a picture (web/backgrounds/beach.svg),
and with the strong blur. Frame rate = frames the effect produced / wall time; CPU = the whole Chromium process
tree's user+sys time (/proc, browser, renderer and GPU processes) / wall time, in % of one core. The page's
modules and the model come from ``web/`` through the API's own allowlist (``api.web.web_file``) on a local HTTP
server. Modes are interleaved over ``ROUNDS`` rounds and medians reported: other work on the machine drifts.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Page, async_playwright

from api.web import web_file
from bench.results import Value
from testkit.person_video import write_y4m

CHROMIUM = "/usr/bin/chromium"
WINDOW_S = 8.0
WARMUP_S = 2.0
ROUNDS = 3
MODES = ("none", "image", "blur")

PAGE = b"""<!doctype html><meta charset="utf-8"><title>virtual background bench</title>
<video id="v" autoplay muted playsinline></video>
<script type="module">
import { BackgroundEffect, BUILTIN_BACKGROUNDS } from "/web/sdk/background.js";
const camera = (await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } })).getVideoTracks()[0];
const video = document.getElementById("v");
let effect = null;
window.settings = camera.getSettings();
window.setMode = async (mode) => {
  effect?.stop();
  effect = null;
  const beach = BUILTIN_BACKGROUNDS.find((b) => b.id === "beach").url;
  if (mode === "image") effect = await BackgroundEffect.create(camera, { type: "image", url: beach });
  if (mode === "blur") effect = await BackgroundEffect.create(camera, { type: "blur", strength: "strong" });
  video.srcObject = new MediaStream([effect ? effect.track : camera]);
};
window.mark = () => effect ? effect.mark() : { at: performance.now(), frames: 0, processingMs: 0, segmentMs: 0 };
window.ready = true;
</script>
"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/bench.html":
            body, media_type = PAGE, "text/html"
        else:
            found = web_file(path.removeprefix("/web/")) if path.startswith("/web/") else None
            if found is None:
                self.send_error(404)
                return
            body, media_type = found[0].read_bytes(), found[1]
        self.send_response(200)
        self.send_header("content-type", media_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _children() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = int(fields[1])
    return out


def _tree_cpu_s(root: int) -> float:
    """user+sys seconds of every live descendant of ``root`` (Playwright's driver and the browser it started)."""
    parents = _children()
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - tree
    total = 0.0
    for pid in tree - {root}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _window(page: Page, mode: str) -> tuple[float, float, float, float]:
    """(fps, CPU % of one core, ms of effect work per frame, of which waiting for the model) for ``mode``."""
    await page.evaluate("(m) => setMode(m)", mode)
    await page.wait_for_timeout(WARMUP_S * 1000)
    start = await page.evaluate("mark()")
    cpu0, wall0 = _tree_cpu_s(os.getpid()), time.monotonic()
    await page.wait_for_timeout(WINDOW_S * 1000)
    end = await page.evaluate("mark()")
    cpu1, wall1 = _tree_cpu_s(os.getpid()), time.monotonic()
    frames = end["frames"] - start["frames"]
    fps = frames / ((end["at"] - start["at"]) / 1000)
    ms = (end["processingMs"] - start["processingMs"]) / frames if frames else 0.0
    segment_ms = (end["segmentMs"] - start["segmentMs"]) / frames if frames else 0.0
    return fps, 100 * (cpu1 - cpu0) / (wall1 - wall0), ms, segment_ms


async def _measure(camera: Path) -> dict[str, list[tuple[float, float, float, float]]]:
    args = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        "--autoplay-policy=no-user-gesture-required",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    results: dict[str, list[tuple[float, float, float, float]]] = {mode: [] for mode in MODES}
    with _server() as base:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                page = await browser.new_page()
                await page.goto(f"{base}/bench.html")
                await page.wait_for_function("window.ready === true", timeout=30_000)
                size = await page.evaluate("[settings.width, settings.height]")
                if size != [1280, 720]:
                    raise RuntimeError(f"the camera is {size}, not 1280x720")
                for _ in range(ROUNDS):
                    for mode in MODES:
                        results[mode].append(await _window(page, mode))
            finally:
                await browser.close()
    return results


def run() -> Mapping[str, Value]:
    with tempfile.TemporaryDirectory() as tmp:
        camera = write_y4m(Path(tmp) / "person.y4m", count=20)
        results = asyncio.run(_measure(camera))

    def median(mode: str, i: int) -> float:
        return round(statistics.median(r[i] for r in results[mode]), 1)

    def cpu_ms(mode: str) -> float:
        """Chromium's CPU ms per produced frame (camera and display included), median over rounds."""
        return round(statistics.median(10 * r[1] / r[0] for r in results[mode] if r[0] > 0), 1)

    return {
        "virtual_background_fps_720p": median("image", 0),
        "virtual_background_cpu_pct_720p": median("image", 1),
        "virtual_background_ms_per_frame_720p": median("image", 2),
        "virtual_background_segment_ms_per_frame_720p": median("image", 3),
        # CPU per frame holds still while other work on the machine moves fps and CPU % together.
        "virtual_background_cpu_ms_per_frame_720p": cpu_ms("image"),
        "virtual_background_blur_cpu_ms_per_frame_720p": cpu_ms("blur"),
        "virtual_background_blur_fps_720p": median("blur", 0),
        "virtual_background_blur_cpu_pct_720p": median("blur", 1),
        "virtual_background_baseline_cpu_pct_720p": median("none", 1),
        "virtual_background_source": (
            "bench/virtual_background.py: Debian Chromium headless, --disable-gpu (software WebGL/canvas), a 1280x720 "
            "30 fps file camera with a person (testkit/person_video.py) shown in a <video>; BackgroundEffect "
            "(MediaPipe selfie segmentation, landscape model, CPU inference on a 256x144 copy; 2D-canvas "
            f"compositing at 720p; insertable streams) with beach.svg, and with the strong blur; {ROUNDS} "
            f"interleaved rounds of {WARMUP_S:g} s warm-up + {WINDOW_S:g} s; fps = frames produced / wall time; "
            "CPU = user+sys of the whole Chromium process tree / wall, % of one core; cpu_ms_per_frame = CPU / fps "
            "(steadier than either when the machine is busy: 1000 / it is the fps one free core would give); "
            "baseline = camera shown without the effect; medians; 2 cores shared with whatever else runs"
        ),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key} = {value}")
