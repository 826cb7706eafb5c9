// Virtual backgrounds: blur what is behind the person, or replace it with a picture, before the camera is sent.
//
// The person is found by MediaPipe's selfie segmentation (npm `@mediapipe/selfie_segmentation`: its model and
// wasm are served from our own /web/vendor/, never a CDN - `locateFile` points there). The model runs on a small
// copy of each frame (256 x 144, the landscape model's input size), on the CPU (XNNPACK): measured in headless
// Chromium without a GPU, CPU inference is ~10x faster than its WebGL path on SwiftShader. The mask it returns is
// scaled up, feathered, and composited at the camera's own size on a 2D canvas:
//   copy: mask -> source-in: camera frame (the person only) -> destination-over: the background.
// A blurred background is the frame drawn small and stretched back with a blur filter (a large blur at 720p
// costs several times more).
//
// Frames come in and go out through insertable streams (MediaStreamTrackProcessor -> MediaStreamTrackGenerator,
// W3C mediacapture-transform) where the browser has them, with the camera's timestamps; elsewhere a <video>
// element feeds requestVideoFrameCallback and canvas.captureStream() makes the track. Either way the output is
// an ordinary video MediaStreamTrack: the SDK publishes it with replaceTrack and the pre-join page previews it.

const VENDOR = new URL("../vendor/@mediapipe/selfie_segmentation/", import.meta.url);
const MASK_WIDTH = 256; // the landscape model's input (MediaPipe model card: 256 x 144)
const MASK_HEIGHT = 144;
/** Blur strengths: how far the background is shrunk before it is stretched back, and the blur on top. */
export const BLUR_STRENGTHS = { light: { shrink: 4, px: 2 }, strong: { shrink: 10, px: 4 } };
/** Pictures shipped in web/backgrounds/ (drawn for us; SVG, a few kB each). */
export const BUILTIN_BACKGROUNDS = ["office", "beach", "aurora"].map((id) => ({ id, url: new URL(`../backgrounds/${id}.svg`, import.meta.url).href }));
export const BACKGROUND_KEY = "meetmesh.background";

/** Check a background choice: null (none), {type: "blur", strength: "light"|"strong"} or {type: "image", url}. */
export function normalizeBackground(spec) {
  if (spec === null || spec === undefined) return null;
  if (spec.type === "blur") {
    const strength = spec.strength ?? "light";
    if (!(strength in BLUR_STRENGTHS)) throw new TypeError(`blur strength must be "light" or "strong" (got ${strength})`);
    return { type: "blur", strength };
  }
  if (spec.type === "image") {
    if (typeof spec.url !== "string" || !spec.url) throw new TypeError("an image background needs a url");
    return { type: "image", url: spec.url };
  }
  throw new TypeError(`background type must be "blur" or "image" (got ${spec.type})`);
}

/** The choice remembered from the last meeting (localStorage), or null. */
export function savedBackground() {
  try {
    return normalizeBackground(JSON.parse(localStorage.getItem(BACKGROUND_KEY) || "null"));
  } catch {
    return null;
  }
}

export function saveBackground(spec) {
  try {
    if (spec) localStorage.setItem(BACKGROUND_KEY, JSON.stringify(spec));
    else localStorage.removeItem(BACKGROUND_KEY);
  } catch {
    /* storage full or blocked (a large uploaded picture): this meeting only */
  }
}

/** An uploaded picture as a data: URL at most 1280 x 720 (JPEG), small enough to remember in localStorage. */
export async function pictureFromFile(file) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1280 / bitmap.width, 720 / bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.toDataURL("image/jpeg", 0.85);
}

// One segmenter per page: its wasm heap is ~20 MB and it is used by one effect at a time (pre-join, then meeting).
let segmenter = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

async function getSegmenter() {
  segmenter ??= (async () => {
    // The package is a classic script that defines window.SelfieSegmentation (no ES module build).
    if (!globalThis.SelfieSegmentation) await loadScript(new URL("selfie_segmentation.js", VENDOR).href);
    const model = new globalThis.SelfieSegmentation({ locateFile: (file) => new URL(file, VENDOR).href });
    model.setOptions({ modelSelection: 1, selfieMode: false, useCpuInference: true });
    // The mask lives in MediaPipe's WebGL canvas, valid only during the callback: copy it out there.
    const mask = canvas(MASK_WIDTH, MASK_HEIGHT);
    const maskCtx = mask.getContext("2d");
    let pending = null;
    model.onResults((results) => {
      maskCtx.globalCompositeOperation = "copy";
      maskCtx.drawImage(results.segmentationMask, 0, 0, MASK_WIDTH, MASK_HEIGHT);
      pending?.(mask);
    });
    await model.initialize();
    let queue = Promise.resolve();
    // send() resolves after onResults ran: hand each caller its own mask, one frame at a time.
    const segment = (image) =>
      (queue = queue.then(
        () =>
          new Promise((resolve, reject) => {
            pending = resolve;
            model.send({ image }).catch(reject);
          }),
      ));
    return { segment };
  })();
  try {
    return await segmenter;
  } catch (err) {
    segmenter = null;
    throw err;
  }
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.crossOrigin = "anonymous"; // a picture from elsewhere must not taint the canvas we publish
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load the background picture ${url.slice(0, 80)}`));
    img.src = url;
  });
}

function canvas(width, height) {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  return c;
}

/**
 * A camera track with its background blurred or replaced. `track` is the processed MediaStreamTrack (it keeps
 * the camera's size); `setBackground(spec)` changes the effect without a new track; `setSource(track)` follows a
 * camera switch; `stop()` ends the output (not the camera). `frames` / `fps()` count processed frames.
 */
export class BackgroundEffect {
  static async create(source, spec) {
    const effect = new BackgroundEffect(source);
    try {
      await effect.setBackground(spec);
      effect._model = await getSegmenter();
    } catch (err) {
      effect.stop();
      throw err;
    }
    effect._start();
    return effect;
  }

  constructor(source) {
    this.source = source;
    this.spec = null;
    this.frames = 0;
    this.processingMs = 0; // time spent segmenting and compositing, summed over frames
    this._picture = null;
    this._stopped = false;
    this._small = canvas(MASK_WIDTH, MASK_HEIGHT);
    this._smallCtx = this._small.getContext("2d", { willReadFrequently: false });
    this._out = canvas(1280, 720);
    this._ctx = this._out.getContext("2d");
    this._shrunk = canvas(32, 18); // the frame made small, then blurred small: both cheap at 1/4 - 1/10 size
    this._shrunkCtx = this._shrunk.getContext("2d");
    this._blur = canvas(32, 18);
    this._blurCtx = this._blur.getContext("2d");
    this._soft = canvas(MASK_WIDTH, MASK_HEIGHT); // the mask, feathered at its own size
    this._softCtx = this._soft.getContext("2d");
    this._backdrop = null; // the picture drawn once at the output size (an SVG re-rasterised per frame costs ms)
    this.segmentMs = 0; // of processingMs, waiting for the model
    if (typeof MediaStreamTrackGenerator === "function") {
      this._generator = new MediaStreamTrackGenerator({ kind: "video" });
      this._writer = this._generator.writable.getWriter();
      this.track = this._generator;
    } else {
      this.track = this._out.captureStream(30).getVideoTracks()[0];
    }
  }

  async setBackground(spec) {
    spec = normalizeBackground(spec);
    if (!spec) throw new TypeError("a BackgroundEffect needs a background (stop it for none)");
    this._picture = spec.type === "image" ? await loadImage(spec.url) : null;
    this._backdrop = null;
    this.spec = spec;
  }

  /** Process another camera (a device switch): the output track stays the same. */
  setSource(track) {
    this.source = track;
    this._restart = true;
    this._reader?.cancel().catch(() => {});
  }

  stop() {
    this._stopped = true;
    this._reader?.cancel().catch(() => {});
    this._video?.pause();
    this.track.stop();
  }

  /** Processed frames per second since `since` (performance.now() and frame count from `mark()`). */
  mark() {
    return { at: performance.now(), frames: this.frames, processingMs: this.processingMs, segmentMs: this.segmentMs };
  }

  async _start() {
    while (!this._stopped) {
      this._restart = false;
      try {
        if (typeof MediaStreamTrackProcessor === "function" && this._writer) await this._pumpInsertable();
        else await this._pumpVideo();
      } catch (err) {
        if (!this._stopped && !this._restart) console.error("meetmesh: background effect", err);
      }
      if (!this._restart) break;
    }
  }

  async _pumpInsertable() {
    const processor = new MediaStreamTrackProcessor({ track: this.source });
    const reader = (this._reader = processor.readable.getReader());
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done || this._stopped) {
        frame?.close();
        return;
      }
      if (!this.source.enabled) {
        frame.close(); // camera off: nothing is sent (replaceTrack(null)), so spend nothing on it
        continue;
      }
      try {
        await this._draw(frame, frame.displayWidth, frame.displayHeight);
        const out = new VideoFrame(this._out, { timestamp: frame.timestamp });
        await this._writer.write(out); // the generator takes ownership of `out`
      } finally {
        frame.close();
      }
    }
  }

  async _pumpVideo() {
    const video = (this._video = document.createElement("video"));
    video.muted = true;
    video.playsInline = true;
    video.srcObject = new MediaStream([this.source]);
    await video.play();
    while (!this._stopped && !this._restart && this.source.readyState === "live") {
      await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
      await this._draw(video, video.videoWidth, video.videoHeight);
    }
  }

  async _draw(frame, width, height) {
    if (!width || !height) return;
    const started = performance.now();
    if (this._out.width !== width || this._out.height !== height) {
      this._out.width = width;
      this._out.height = height;
    }
    this._smallCtx.drawImage(frame, 0, 0, MASK_WIDTH, MASK_HEIGHT);
    const segmentStarted = performance.now();
    const mask = await this._model.segment(this._small);
    this.segmentMs += performance.now() - segmentStarted;
    // Feather the mask at 256 x 144 (a blur at 720p costs ~10x more); scaled up bilinearly it stays soft.
    this._softCtx.globalCompositeOperation = "copy";
    this._softCtx.filter = "blur(1px)";
    this._softCtx.drawImage(mask, 0, 0);
    const ctx = this._ctx;
    ctx.save();
    ctx.globalCompositeOperation = "copy";
    ctx.drawImage(this._soft, 0, 0, width, height);
    ctx.globalCompositeOperation = "source-in";
    ctx.drawImage(frame, 0, 0, width, height);
    ctx.globalCompositeOperation = "destination-over";
    if (this.spec.type === "image") ctx.drawImage(this._backdropAt(width, height), 0, 0);
    else this._drawBlurred(frame, width, height);
    ctx.restore();
    this.frames += 1;
    this.processingMs += performance.now() - started;
  }

  // The picture fills the frame (CSS object-fit: cover): scaled to cover it and centred, never stretched. Drawn
  // once per picture and size.
  _backdropAt(width, height) {
    if (this._backdrop?.width === width && this._backdrop.height === height) return this._backdrop;
    const picture = this._picture;
    const backdrop = canvas(width, height);
    const scale = Math.max(width / picture.naturalWidth, height / picture.naturalHeight);
    const w = picture.naturalWidth * scale;
    const h = picture.naturalHeight * scale;
    backdrop.getContext("2d").drawImage(picture, (width - w) / 2, (height - h) / 2, w, h);
    return (this._backdrop = backdrop);
  }

  _drawBlurred(frame, width, height) {
    const { shrink, px } = BLUR_STRENGTHS[this.spec.strength];
    const w = Math.max(1, Math.round(width / shrink));
    const h = Math.max(1, Math.round(height / shrink));
    if (this._blur.width !== w || this._blur.height !== h) {
      this._shrunk.width = this._blur.width = w;
      this._shrunk.height = this._blur.height = h;
    }
    // Shrink first, then blur the small copy: a filter on the draw that shrinks works on the full-size frame.
    this._shrunkCtx.drawImage(frame, 0, 0, w, h);
    this._blurCtx.filter = `blur(${px}px)`;
    this._blurCtx.drawImage(this._shrunk, 0, 0);
    this._ctx.drawImage(this._blur, 0, 0, width, height); // bilinear: "high" smoothing costs more, shows nothing here
  }
}

// ---- the picker (pre-join page and Settings) -------------------------------------------------------------------

/** The <select> value that shows `spec`: "none", "blur:light", "image:beach", or "custom" (an uploaded picture). */
export function choiceOf(spec) {
  if (!spec) return "none";
  if (spec.type === "blur") return `blur:${spec.strength}`;
  return `image:${BUILTIN_BACKGROUNDS.find((b) => b.url === spec.url)?.id ?? "custom"}`;
}

/**
 * A labelled background <select> (none, two blurs, the built-in pictures, an uploaded one) with its file input.
 * `onChoose(spec)` runs with the new choice (after an upload has been read); `t` is the catalogue's lookup.
 */
export function backgroundPicker(t, current, onChoose) {
  const select = document.createElement("select");
  select.dataset.role = "background";
  const options = [
    ["none", t("bg.none")],
    ["blur:light", t("bg.blurLight")],
    ["blur:strong", t("bg.blurStrong")],
    ...BUILTIN_BACKGROUNDS.map((b) => [`image:${b.id}`, t(`bg.${b.id}`)]),
    ["upload", t("bg.upload")],
  ];
  for (const [value, label] of options) select.append(new Option(label, value));
  const file = document.createElement("input");
  file.type = "file";
  file.accept = "image/*";
  file.hidden = true;
  file.dataset.role = "background-file";
  let custom = current?.type === "image" && choiceOf(current) === "image:custom" ? current : null;
  const show = (spec) => {
    if (spec?.type === "image" && choiceOf(spec) === "image:custom") {
      custom = spec;
      if (!select.querySelector('option[value="image:custom"]')) select.insertBefore(new Option(t("bg.custom"), "image:custom"), select.lastElementChild);
    }
    select.value = choiceOf(spec);
  };
  show(current);
  let shown = select.value;
  select.addEventListener("change", async () => {
    const value = select.value;
    if (value === "upload") {
      select.value = shown; // until a picture is chosen
      file.click();
      return;
    }
    shown = value;
    const [type, detail] = value.split(":");
    if (type === "none") await onChoose(null);
    else if (type === "blur") await onChoose({ type: "blur", strength: detail });
    else if (detail === "custom") await onChoose(custom);
    else await onChoose({ type: "image", url: BUILTIN_BACKGROUNDS.find((b) => b.id === detail).url });
  });
  file.addEventListener("change", async () => {
    if (!file.files?.[0]) return;
    const spec = { type: "image", url: await pictureFromFile(file.files[0]) };
    file.value = "";
    show(spec);
    shown = select.value;
    await onChoose(spec);
  });
  const label = document.createElement("label");
  label.append(t("bg.label"), " ", select, file);
  return label;
}
