// Annotation over a screen share: marks drawn by the sharer and the viewers on top of the shared picture.
//
// Marks live in the document `annotate:<sharer's participant id>` (docs/collaboration.md) as Y.Maps in the
// Y.Array "strokes", their points in the shared picture's own coordinates: fractions 0..1 of the video's
// intrinsic width and height (videoWidth × videoHeight). Every screen maps them through the rectangle the picture
// really occupies in its tile (object-fit: contain letterboxes it), so a mark lands on the same content point
// at every tile size. A mark in flight travels in awareness; the finished mark is one Y.Map, one update.
//
// Marks fade: each is shown `fadeMs` after this page first saw it, then fades out over FADE_OUT_MS; its author
// deletes it from the document then, so the document stays small. "Clear" removes one's own marks (the sharer's
// and hosts' clear removes everyone's). The sharer (and the meeting's hosts) can turn annotation off: that is the
// document's lock, so the server refuses everyone else's marks, and their tools go grey.
//
//   const view = mountAnnotation(frame, video, provider, { t, icon });   view.destroy()

import * as Y from "yjs";
import { clientColour } from "./provider.js";

export const FADE_MS = 6000;
const FADE_OUT_MS = 1000;
/** Line width as a fraction of the picture's width: marks scale with the tile like the picture does. */
export const LINE = 0.006;
const LOCAL = Symbol("annotate-local");

/** Where the picture is inside the video element's box (object-fit: contain centres and letterboxes it). */
export function contentRect(boxW, boxH, videoW, videoH) {
  if (!boxW || !boxH || !videoW || !videoH) return { x: 0, y: 0, w: boxW, h: boxH };
  const scale = Math.min(boxW / videoW, boxH / videoH);
  const w = videoW * scale;
  const h = videoH * scale;
  return { x: (boxW - w) / 2, y: (boxH - h) / 2, w, h };
}

export function mountAnnotation(frame, video, provider, { t = (k) => k, icon = null, fadeMs = FADE_MS } = {}) {
  const strokes = provider.ydoc.getArray("strokes");
  const me = provider.ydoc.clientID;
  const colour = clientColour(me);
  const seen = new WeakMap(); // Y.Map -> when this page first saw it (clocks differ between people: no shared time)
  let drawing = false; // the pen is on: the overlay takes the pointer

  const canvas = document.createElement("canvas");
  canvas.className = "annotate-overlay";
  canvas.dataset.role = "annotate-canvas";
  canvas.setAttribute("aria-hidden", "true");
  const bar = document.createElement("div");
  bar.className = "annotate-tools";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", t("annotate.tools"));
  const button = (action, label, iconName) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "icon-button";
    b.dataset.annotateAction = action;
    b.setAttribute("aria-label", label);
    b.title = label;
    if (icon) b.append(icon(iconName));
    else b.textContent = label;
    bar.append(b);
    return b;
  };
  const penButton = button("pen", t("annotate.pen"), "pencil");
  penButton.setAttribute("aria-pressed", "false");
  const clearButton = button("clear", t("annotate.clear"), "eraser");
  const offButton = button("off", t("annotate.off"), "lock");
  const status = document.createElement("span");
  status.className = "annotate-status";
  status.setAttribute("role", "status");
  bar.append(status);
  frame.append(canvas, bar);
  const ctx = canvas.getContext("2d");

  const rect = () => contentRect(canvas.clientWidth, canvas.clientHeight, video.videoWidth, video.videoHeight);
  const toPicture = (ev) => {
    const box = canvas.getBoundingClientRect();
    const r = rect();
    const x = (ev.clientX - box.left - r.x) / r.w;
    const y = (ev.clientY - box.top - r.y) / r.h;
    return [Math.round(Math.min(1, Math.max(0, x)) * 1e4) / 1e4, Math.round(Math.min(1, Math.max(0, y)) * 1e4) / 1e4];
  };

  const paint = (s, r, alpha) => {
    const points = Array.isArray(s.points) ? s.points : [];
    if (!points.length) return;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = ctx.fillStyle = s.color || colour;
    ctx.lineWidth = Math.max(2, (s.size || LINE) * r.w);
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    const at = ([x, y]) => [r.x + x * r.w, r.y + y * r.h];
    ctx.moveTo(...at(points[0]));
    for (const p of points.slice(1)) ctx.lineTo(...at(p));
    if (points.length === 1) ctx.lineTo(...at(points[0])); // a dot
    ctx.stroke();
    ctx.restore();
  };

  let raf = 0;
  let timer = 0;
  const render = () => {
    raf = 0;
    flushAwareness();
    const dpr = devicePixelRatio || 1;
    const w = Math.round(canvas.clientWidth * dpr);
    const h = Math.round(canvas.clientHeight * dpr);
    if (canvas.width !== w || canvas.height !== h) Object.assign(canvas, { width: w, height: h });
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
    const r = rect();
    const now = performance.now();
    let next = Infinity; // when the picture changes next by itself (a mark starts or goes on fading)
    const expired = [];
    strokes.toArray().forEach((m, i) => {
      if (!seen.has(m)) seen.set(m, now);
      const age = now - seen.get(m);
      if (age >= fadeMs + FADE_OUT_MS) {
        if (m.get("by") === me) expired.push(i);
        return;
      }
      next = Math.min(next, age < fadeMs ? fadeMs - age : 16);
      paint(m.toJSON(), r, age < fadeMs ? 1 : 1 - (age - fadeMs) / FADE_OUT_MS);
    });
    if (draft) paint(draft, r, 1);
    for (const [id, state] of provider.awareness.getStates()) if (id !== me && state?.drawing) paint(state.drawing, r, 1);
    clearTimeout(timer);
    if (next < Infinity) timer = setTimeout(schedule, next);
    if (expired.length && provider.editable) provider.ydoc.transact(() => expired.reverse().forEach((i) => strokes.delete(i, 1)), LOCAL);
  };
  const schedule = () => {
    if (!raf) raf = requestAnimationFrame(render);
  };

  // The mark in flight goes out at most once per animation frame, its latest 100 points (awareness states are
  // at most 8 KB on the server); the finished mark carries them all.
  let draft = null;
  let outDraft = false;
  const flushAwareness = () => {
    if (!outDraft) return;
    outDraft = false;
    provider.awareness.setLocalStateField("drawing", draft && { ...draft, points: draft.points.slice(-100) });
  };
  canvas.addEventListener("pointerdown", (ev) => {
    if (!drawing || !provider.editable) return;
    canvas.setPointerCapture?.(ev.pointerId);
    draft = { color: colour, size: LINE, points: [toPicture(ev)] };
    outDraft = true;
    schedule();
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!draft) return;
    draft.points.push(toPicture(ev));
    outDraft = true;
    schedule();
  });
  const finish = () => {
    if (!draft) return;
    const done = { ...draft, by: me };
    draft = null;
    outDraft = false;
    provider.awareness.setLocalStateField("drawing", null);
    // Turned off (or a lost right) mid-mark: the server would refuse it, so it is not sent.
    if (provider.editable) provider.ydoc.transact(() => strokes.push([new Y.Map(Object.entries(done))]), LOCAL);
    schedule();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  const setDrawing = (on) => {
    drawing = on && provider.editable;
    penButton.setAttribute("aria-pressed", String(drawing));
    frame.classList.toggle("annotating", drawing);
  };
  const clear = () => {
    const everyone = provider.host; // the sharer and hosts clear everyone's marks; others their own
    const mine = [];
    strokes.toArray().forEach((m, i) => (everyone || m.get("by") === me) && mine.push(i));
    if (mine.length) provider.ydoc.transact(() => mine.reverse().forEach((i) => strokes.delete(i, 1)), LOCAL);
  };
  bar.addEventListener("click", (ev) => {
    const action = ev.target.closest("button")?.dataset.annotateAction;
    if (action === "pen") setDrawing(!drawing);
    else if (action === "clear") clear();
    else if (action === "off") provider.lock(!provider.locked);
  });

  const showStatus = () => {
    const editable = provider.editable;
    penButton.disabled = clearButton.disabled = !editable;
    offButton.hidden = !provider.host;
    offButton.disabled = provider.status !== "connected";
    offButton.setAttribute("aria-pressed", String(provider.locked));
    offButton.setAttribute("aria-label", t(provider.locked ? "annotate.on" : "annotate.off"));
    offButton.title = offButton.getAttribute("aria-label");
    status.textContent = provider.status === "connected" && provider.locked ? t(provider.host ? "annotate.offHost" : "annotate.offForYou") : "";
    if (!editable) setDrawing(false);
    frame.dataset.annotatable = String(editable);
    schedule();
  };

  const sized = new ResizeObserver(schedule);
  sized.observe(canvas);
  video.addEventListener("resize", schedule); // the picture's own size changed (another layer): same marks, new map
  strokes.observe(schedule);
  provider.awareness.on("change", schedule);
  provider.addEventListener("status", showStatus);
  showStatus();

  return {
    canvas,
    strokes,
    provider,
    /** Turn the pen on or off (the overlay takes the pointer while it is on). */
    setDrawing,
    clear,
    get fadeMs() {
      return fadeMs;
    },
    set fadeMs(ms) {
      fadeMs = ms;
      schedule();
    },
    destroy() {
      sized.disconnect();
      video.removeEventListener("resize", schedule);
      strokes.unobserve(schedule);
      provider.awareness.off("change", schedule);
      provider.removeEventListener("status", showStatus);
      clearTimeout(timer);
      if (raf) cancelAnimationFrame(raf);
      canvas.remove();
      bar.remove();
    },
  };
}
