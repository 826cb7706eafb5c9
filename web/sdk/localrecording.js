// Local recording: the meeting view recorded in the browser, nothing sent to the server.
//
// Video: the visible tiles drawn into a canvas as a grid, ~15 times a second, captured with captureStream().
// Audio: every audio track (our microphone and each remote one) mixed with WebAudio into one
// MediaStreamAudioDestinationNode. Both go to one MediaRecorder (WebM, VP8 + Opus when the browser has it).
// Sources are asked for on every frame, so people who join, leave or reconnect mid-recording are followed.

/** Container/codec choices, best first; the first MediaRecorder.isTypeSupported() accepts is used. */
export const LOCAL_RECORDING_TYPES = ["video/webm;codecs=vp8,opus", "video/webm;codecs=vp9,opus", "video/webm", "video/mp4"];

/**
 * @typedef {{video: HTMLVideoElement, label: string}} Tile
 * @typedef {{tiles: Tile[], audio: MediaStreamTrack[]}} Sources
 */
export class LocalRecorder {
  /** @param {{sources: () => Sources, width?: number, height?: number, fps?: number}} options */
  constructor({ sources, width = 1280, height = 720, fps = 15 }) {
    this.sources = sources;
    this.fps = fps;
    this.canvas = Object.assign(document.createElement("canvas"), { width, height });
    this.g = this.canvas.getContext("2d");
    this.audio = null; // AudioContext
    this.mix = null; // MediaStreamAudioDestinationNode
    this.inputs = new Map(); // audio track -> MediaStreamAudioSourceNode
    this.recorder = null;
    this.chunks = [];
    this.timer = null;
    this.mimeType = LOCAL_RECORDING_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) ?? "";
  }

  async start() {
    this.audio = new AudioContext();
    await this.audio.resume(); // created outside a click it may start suspended: a suspended graph records nothing
    this.mix = this.audio.createMediaStreamDestination();
    this._draw();
    // A timer rather than requestAnimationFrame: rAF stops in a background tab, and a recording must not.
    this.timer = setInterval(() => this._draw(), 1000 / this.fps);
    const stream = new MediaStream([...this.canvas.captureStream(this.fps).getVideoTracks(), ...this.mix.stream.getAudioTracks()]);
    this.recorder = new MediaRecorder(stream, this.mimeType ? { mimeType: this.mimeType } : {});
    this.recorder.ondataavailable = (ev) => ev.data.size && this.chunks.push(ev.data);
    this.recorder.start(1000); // a chunk a second: memory grows smoothly, and a crash mid-way loses one second
  }

  /** Stop and return the recording (its type says the container and codecs). */
  stop() {
    const recorder = this.recorder;
    if (!recorder || recorder.state === "inactive") {
      this._release();
      return Promise.resolve(new Blob(this.chunks, { type: this.mimeType || "video/webm" }));
    }
    return new Promise((resolve) => {
      recorder.onstop = () => {
        this._release();
        resolve(new Blob(this.chunks, { type: recorder.mimeType || this.mimeType || "video/webm" }));
      };
      recorder.stop();
    });
  }

  _release() {
    clearInterval(this.timer);
    this.timer = null;
    this.recorder?.stream.getTracks().forEach((t) => t.stop());
    this.inputs.forEach((node) => node.disconnect());
    this.inputs.clear();
    this.audio?.close();
    this.audio = this.mix = null;
  }

  _draw() {
    const { tiles, audio } = this.sources();
    this._mixAudio(audio);
    const { width, height } = this.canvas;
    const g = this.g;
    g.fillStyle = "#111";
    g.fillRect(0, 0, width, height);
    const cols = Math.ceil(Math.sqrt(tiles.length));
    const rows = Math.ceil(tiles.length / cols);
    const gap = 8;
    const cw = (width - gap * (cols + 1)) / cols;
    const ch = (height - gap * (rows + 1)) / rows;
    tiles.forEach(({ video, label }, i) => {
      const x = gap + (i % cols) * (cw + gap);
      const y = gap + Math.floor(i / cols) * (ch + gap);
      g.fillStyle = "#000";
      g.fillRect(x, y, cw, ch);
      if (video.readyState >= 2 && video.videoWidth) {
        // Fit inside the cell keeping the aspect ratio (letterboxed), as the page's tiles show it.
        const scale = Math.min(cw / video.videoWidth, ch / video.videoHeight);
        const w = video.videoWidth * scale;
        const h = video.videoHeight * scale;
        g.drawImage(video, x + (cw - w) / 2, y + (ch - h) / 2, w, h);
      }
      if (label) {
        g.font = "16px system-ui, sans-serif";
        const tw = g.measureText(label).width;
        g.fillStyle = "#0008";
        g.fillRect(x + 6, y + ch - 30, tw + 12, 24);
        g.fillStyle = "#eee";
        g.fillText(label, x + 12, y + ch - 12);
      }
    });
  }

  _mixAudio(tracks) {
    const live = new Set(tracks.filter((t) => t.readyState === "live"));
    for (const [track, node] of this.inputs) {
      if (!live.has(track)) {
        node.disconnect();
        this.inputs.delete(track);
      }
    }
    for (const track of live) {
      if (this.inputs.has(track)) continue;
      const node = this.audio.createMediaStreamSource(new MediaStream([track]));
      node.connect(this.mix);
      this.inputs.set(track, node);
    }
  }
}

/** `meetmesh-<number>-<UTC time>.webm` (colons left out: they are not allowed in Windows file names). */
export function localRecordingFilename(number, type, at = new Date()) {
  const ext = type.startsWith("video/mp4") ? "mp4" : "webm";
  return `meetmesh-${number}-${at.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-")}.${ext}`;
}

/** Save `blob` as a download named `filename` (an anchor with a blob: URL, revoked once the save started). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: filename, hidden: true });
  document.body.append(a); // some browsers only follow clicks on anchors in the document
  a.click();
  a.remove();
  // The download has its own reference to the bytes once it started; keep the URL a moment for slow starts.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
