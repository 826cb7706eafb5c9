// A shared whiteboard: shapes in a Y.Array ("shapes") of Y.Maps, drawn on a canvas of fixed logical size so
// every screen renders the same picture. Tools: select (move, resize from the corner handle, delete), pen
// (perfect-freehand), line, rectangle, ellipse, arrow, text, sticky note, eraser, laser pointer (awareness only: never
// stored); colours; undo/redo of one's own changes (Y.UndoManager tracks only this page's origin); others' cursors,
// laser pointers and strokes in flight with their names. Export as PNG or SVG.
//
// A stroke in flight travels in awareness (ephemeral, never stored); the finished stroke is one Y.Map pushed in
// one transaction: one update to store, however many points it has.
//
//   const board = mountBoard(container, provider, { t });   board.undo()  board.redo()  board.destroy()

import * as Y from "yjs";
import { getStroke } from "perfect-freehand";
import { clientColour } from "./provider.js";
import { canvasJpeg, picturesToPdf } from "./board_pdf.js";

export const WIDTH = 1600;
export const HEIGHT = 900;
/** Line widths in board units (thin, medium, thick); text and sticky notes scale their letters with it. */
export const WIDTHS = [2, 4, 8];
export const COLOURS = ["#1f2328", "#d1242f", "#1a7f37", "#0969da", "#bf8700", "#8250df"];
const TOOLS = [
  ["select", "mouse-pointer-2"],
  ["pen", "pencil"],
  ["line", "minus"],
  ["rect", "square"],
  ["ellipse", "circle"],
  ["arrow", "move-up-right"],
  ["text", "type"],
  ["sticky", "sticky-note"],
  ["eraser", "eraser"],
  ["laser", "zap"],
  ["hand", "hand"],
];
const STICKY_FILL = "#fff1a8";
const STICKY_SIZE = [220, 160];
/** The corner handle a selected shape is resized by (board units, either side of the corner). */
const HANDLE = 14;
const LOCAL = Symbol("board-local");

function strokeOutline(points, size) {
  return getStroke(points, { size, thinning: 0.5, smoothing: 0.5, streamline: 0.4, simulatePressure: points.every((p) => p[2] === undefined || p[2] === 0.5) });
}

function strokePath(points, size) {
  const outline = strokeOutline(points, size);
  const path = new Path2D();
  if (!outline.length) return path;
  path.moveTo(outline[0][0], outline[0][1]);
  for (const [x, y] of outline.slice(1)) path.lineTo(x, y);
  path.closePath();
  return path;
}

/** A sticky note's text in lines that fit its width (a fixed average glyph width: the same on every screen). */
function stickyLines(s) {
  const size = (s.size || 4) * 5;
  const perLine = Math.max(1, Math.floor((Math.abs((s.x2 ?? 0) - (s.x1 ?? 0)) - 20) / (size * 0.55)));
  const lines = [];
  for (const para of String(s.text || "").slice(0, 500).split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      const next = line ? `${line} ${word}` : word;
      if (next.length > perLine && line) {
        lines.push(line);
        line = word;
      } else line = next;
    }
    lines.push(line);
  }
  const fit = Math.max(1, Math.floor((Math.abs((s.y2 ?? 0) - (s.y1 ?? 0)) - 20) / (size * 1.25)));
  return { lines: lines.slice(0, fit), size };
}

/** A shape's bounding box [left, top, right, bottom] on the board. */
export function bounds(s) {
  if (s.tool === "pen" && Array.isArray(s.points) && s.points.length) {
    const xs = s.points.map((p) => p[0]);
    const ys = s.points.map((p) => p[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }
  const { x1 = 0, y1 = 0, x2 = 0, y2 = 0 } = s;
  if (s.tool === "text") return [x1, y1, x1 + (s.text?.length || 1) * (s.size || 4) * 4, y1 + (s.size || 4) * 7];
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}

/** The shape with every point mapped by `f` (move: a translation; resize: a scale from the top-left corner). */
export function transformed(s, f) {
  const out = { ...s };
  if (Array.isArray(s.points)) out.points = s.points.map(([x, y, p]) => [...f(x, y), p].filter((v) => v !== undefined));
  if ("x1" in s) [out.x1, out.y1] = f(s.x1, s.y1);
  if ("x2" in s) [out.x2, out.y2] = f(s.x2, s.y2);
  return out;
}

const escapeXml = (text) => String(text).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page as an SVG document: the same shapes as the canvas, as vector elements (text stays text). */
export function toSvg(list) {
  const r1 = (v) => Math.round(v * 10) / 10;
  const parts = list.map((s) => {
    const colour = escapeXml(s.color || COLOURS[0]);
    const width = s.size || 4;
    const line = `fill="none" stroke="${colour}" stroke-width="${width}" stroke-linecap="round" stroke-linejoin="round"`;
    const [l, t, r, b] = bounds(s);
    const { x1 = 0, y1 = 0, x2 = 0, y2 = 0 } = s;
    if (s.tool === "pen" && Array.isArray(s.points)) {
      const outline = strokeOutline(s.points, width * 2);
      if (!outline.length) return "";
      return `<path data-tool="pen" fill="${colour}" d="M${outline.map(([x, y]) => `${r1(x)} ${r1(y)}`).join(" L")} Z"/>`;
    }
    if (s.tool === "rect") return `<rect data-tool="rect" x="${r1(l)}" y="${r1(t)}" width="${r1(r - l)}" height="${r1(b - t)}" ${line}/>`;
    if (s.tool === "ellipse") return `<ellipse data-tool="ellipse" cx="${r1((l + r) / 2)}" cy="${r1((t + b) / 2)}" rx="${r1((r - l) / 2)}" ry="${r1((b - t) / 2)}" ${line}/>`;
    if (s.tool === "line") return `<path data-tool="line" d="M${r1(x1)} ${r1(y1)} L${r1(x2)} ${r1(y2)}" ${line}/>`;
    if (s.tool === "arrow") {
      const angle = Math.atan2(y2 - y1, x2 - x1);
      const head = (a) => `${r1(x2 - 18 * Math.cos(angle + a))} ${r1(y2 - 18 * Math.sin(angle + a))}`;
      return `<path data-tool="arrow" d="M${r1(x1)} ${r1(y1)} L${r1(x2)} ${r1(y2)} M${head(-0.5)} L${r1(x2)} ${r1(y2)} L${head(0.5)}" ${line}/>`;
    }
    if (s.tool === "text") return `<text data-tool="text" x="${r1(x1)}" y="${r1(y1)}" dominant-baseline="hanging" font-family="sans-serif" font-size="${width * 7}" fill="${colour}">${escapeXml(String(s.text || "").slice(0, 500))}</text>`;
    if (s.tool === "sticky") {
      const { lines, size } = stickyLines(s);
      const text = lines.map((ln, i) => `<tspan x="${r1(l + 10)}" y="${r1(t + 10 + i * size * 1.25)}">${escapeXml(ln)}</tspan>`).join("");
      return `<g data-tool="sticky"><rect x="${r1(l)}" y="${r1(t)}" width="${r1(r - l)}" height="${r1(b - t)}" fill="${STICKY_FILL}" stroke="#d4b106"/><text dominant-baseline="hanging" font-family="sans-serif" font-size="${size}" fill="${colour}">${text}</text></g>`;
    }
    return "";
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}"><rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>${parts.join("")}</svg>`;
}

/** Draw one shape (a plain object: the Y.Map's JSON) on a 2D context. */
export function drawShape(ctx, s) {
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = s.color || COLOURS[0];
  ctx.lineWidth = s.size || 4;
  ctx.lineCap = ctx.lineJoin = "round";
  const { x1 = 0, y1 = 0, x2 = 0, y2 = 0 } = s;
  if (s.tool === "pen" && Array.isArray(s.points)) {
    ctx.fill(strokePath(s.points, (s.size || 4) * 2));
  } else if (s.tool === "rect") {
    ctx.strokeRect(Math.min(x1, x2), Math.min(y1, y2), Math.abs(x2 - x1), Math.abs(y2 - y1));
  } else if (s.tool === "ellipse") {
    ctx.beginPath();
    ctx.ellipse((x1 + x2) / 2, (y1 + y2) / 2, Math.abs(x2 - x1) / 2, Math.abs(y2 - y1) / 2, 0, 0, Math.PI * 2);
    ctx.stroke();
  } else if (s.tool === "line") {
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  } else if (s.tool === "arrow") {
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const head = 18;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.moveTo(x2 - head * Math.cos(angle - 0.5), y2 - head * Math.sin(angle - 0.5));
    ctx.lineTo(x2, y2);
    ctx.lineTo(x2 - head * Math.cos(angle + 0.5), y2 - head * Math.sin(angle + 0.5));
    ctx.stroke();
  } else if (s.tool === "text" && typeof s.text === "string") {
    ctx.font = `${(s.size || 4) * 7}px sans-serif`;
    ctx.textBaseline = "top";
    ctx.fillText(s.text.slice(0, 500), x1, y1);
  } else if (s.tool === "sticky") {
    const [l, t, r, b] = bounds(s);
    ctx.fillStyle = STICKY_FILL;
    ctx.fillRect(l, t, r - l, b - t);
    ctx.strokeStyle = "#d4b106";
    ctx.lineWidth = 1;
    ctx.strokeRect(l, t, r - l, b - t);
    const { lines, size } = stickyLines(s);
    ctx.fillStyle = s.color || COLOURS[0];
    ctx.font = `${size}px sans-serif`;
    ctx.textBaseline = "top";
    lines.forEach((ln, i) => ctx.fillText(ln, l + 10, t + 10 + i * size * 1.25));
  }
  ctx.restore();
}

/** Distance from (x, y) to a shape's outline, for the eraser. */
export function distanceTo(s, x, y) {
  const seg = (ax, ay, bx, by) => {
    const dx = bx - ax;
    const dy = by - ay;
    const len = dx * dx + dy * dy;
    const t = len ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len)) : 0;
    return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
  };
  const { x1 = 0, y1 = 0, x2 = 0, y2 = 0 } = s;
  if (s.tool === "pen") {
    let best = Infinity;
    for (let i = 1; i < s.points.length; i++) best = Math.min(best, seg(s.points[i - 1][0], s.points[i - 1][1], s.points[i][0], s.points[i][1]));
    return s.points.length === 1 ? Math.hypot(x - s.points[0][0], y - s.points[0][1]) : best;
  }
  if (s.tool === "arrow" || s.tool === "line") return seg(x1, y1, x2, y2);
  if (s.tool === "text" || s.tool === "sticky") {
    const [l, tp, r, b] = bounds(s);
    return x >= l && y >= tp && x <= r && y <= b ? 0 : Infinity;
  }
  const [l, r, tp, b] = [Math.min(x1, x2), Math.max(x1, x2), Math.min(y1, y2), Math.max(y1, y2)];
  return Math.min(seg(l, tp, r, tp), seg(r, tp, r, b), seg(l, b, r, b), seg(l, tp, l, b));
}

/** Someone's laser pointer: a fading red trail ending in a glowing dot. */
function drawLaser(ctx, trail) {
  ctx.save();
  ctx.lineCap = ctx.lineJoin = "round";
  for (let i = 1; i < trail.length; i++) {
    ctx.strokeStyle = `rgba(255, 40, 40, ${(i / trail.length) * 0.8})`;
    ctx.lineWidth = 2 + (i / trail.length) * 6;
    ctx.beginPath();
    ctx.moveTo(...trail[i - 1]);
    ctx.lineTo(...trail[i]);
    ctx.stroke();
  }
  const [x, y] = trail[trail.length - 1];
  ctx.shadowColor = "#ff2828";
  ctx.shadowBlur = 16;
  ctx.fillStyle = "#ff2828";
  ctx.beginPath();
  ctx.arc(x, y, 8, 0, Math.PI * 2);
  ctx.fill();
  ctx.restore();
}

export function mountBoard(container, provider, { t = (k) => k, icon = null } = {}) {
  // Pages: the first page's shapes are the Y.Array "shapes" (boards from before pages stay readable), each further
  // page's are "shapes:<id>", its id in the Y.Array "pages" in page order. Which page one looks at is one's own.
  const pages = provider.ydoc.getArray("pages");
  const pageKey = (i) => (i === 0 ? "shapes" : `shapes:${pages.get(i - 1)}`);
  let page = 0;
  let shapes = provider.ydoc.getArray("shapes");
  const undo = new Y.UndoManager([shapes, pages], { trackedOrigins: new Set([LOCAL]), captureTimeout: 0 });
  const me = provider.ydoc.clientID;
  let tool = "pen";
  let colour = COLOURS[0];
  let width = WIDTHS[1];

  container.replaceChildren();
  const bar = document.createElement("div");
  bar.className = "board-tools";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", t("collab.tools"));
  const button = (action, label, iconName, extra = {}) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "icon-button";
    b.dataset.boardAction = action;
    b.setAttribute("aria-label", label);
    b.title = label;
    if (icon && iconName) b.append(icon(iconName));
    else b.textContent = label;
    Object.assign(b.dataset, extra);
    bar.append(b);
    return b;
  };
  for (const [name, iconName] of TOOLS) button("tool", t(`collab.tool.${name}`), iconName, { tool: name }).setAttribute("aria-pressed", String(name === tool));
  for (const c of COLOURS) {
    const b = button("colour", `${t("collab.colour")} ${c}`, null, { colour: c });
    b.textContent = "";
    b.style.background = c;
    b.classList.add("swatch");
    b.setAttribute("aria-pressed", String(c === colour));
  }
  WIDTHS.forEach((w, i) => {
    const b = button("width", t(`collab.width.${i}`), null, { width: String(w) });
    b.textContent = "";
    b.classList.add("width-swatch");
    b.append(Object.assign(document.createElement("span"), { className: "width-dot" }));
    b.lastChild.style.height = b.lastChild.style.width = `${w + 2}px`;
    b.setAttribute("aria-pressed", String(w === width));
  });
  const textInput = document.createElement("input");
  textInput.dataset.role = "board-text";
  textInput.placeholder = t("collab.textPlaceholder");
  textInput.setAttribute("aria-label", t("collab.textPlaceholder"));
  bar.append(textInput);
  const undoButton = button("undo", t("collab.undo"), "undo-2");
  const redoButton = button("redo", t("collab.redo"), "redo-2");
  const deleteButton = button("delete", t("collab.delete"), "trash-2");
  const prevButton = button("page-prev", t("collab.pagePrev"), "chevron-left");
  const pageLabel = document.createElement("span");
  pageLabel.dataset.role = "board-page";
  pageLabel.setAttribute("aria-live", "polite");
  bar.append(pageLabel);
  const nextButton = button("page-next", t("collab.pageNext"), "chevron-right");
  button("page-add", t("collab.pageAdd"), "file-plus");
  button("zoom-out", t("collab.zoomOut"), "zoom-out");
  const zoomLabel = button("zoom-reset", t("collab.zoomReset", { zoom: "100%" }), null);
  zoomLabel.textContent = "100%"; // the name contains the visible text (WCAG 2.5.3, label in name)
  button("zoom-in", t("collab.zoomIn"), "zoom-in");
  button("export-png", t("collab.exportPng"), "download");
  button("export-svg", t("collab.exportSvg"), "file-code");
  button("export-pdf", t("collab.exportPdf"), "file-text");
  const lockButton = button("lock", t("collab.lock"), "lock");
  lockButton.setAttribute("aria-pressed", "false");
  // Hosts: limit drawing to hosts and presenters (people sharing their screen), or lock it for hosts only.
  const presentersButton = button("lock-presenters", t("collab.lockPresenters"), "presentation");
  presentersButton.setAttribute("aria-pressed", "false");
  const status = document.createElement("p");
  status.className = "collab-status";
  status.setAttribute("role", "status");

  const stage = document.createElement("div");
  stage.className = "board-stage";
  stage.tabIndex = -1;
  const canvas = document.createElement("canvas");
  canvas.dataset.role = "board-canvas";
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  canvas.setAttribute("aria-label", t("collab.board"));
  canvas.setAttribute("role", "img");
  const overlay = document.createElement("canvas");
  overlay.className = "board-overlay";
  overlay.width = WIDTH;
  overlay.height = HEIGHT;
  overlay.setAttribute("aria-hidden", "true");
  stage.append(canvas, overlay);
  container.append(bar, status, stage);
  const ctx = canvas.getContext("2d");
  const octx = overlay.getContext("2d");

  let frame = 0;
  const render = () => {
    frame = 0;
    flushAwareness();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    octx.setTransform(1, 0, 0, 1, 0, 0);
    octx.clearRect(0, 0, WIDTH, HEIGHT);
    // This page's zoom and pan: the document stays in board units, only the view moves.
    for (const c of [ctx, octx]) c.setTransform(view.scale, 0, 0, view.scale, -view.x * view.scale, -view.y * view.scale);
    const all = shapes.toArray();
    if (selected && !all.includes(selected)) selected = preview = gesture = null; // deleted meanwhile (by anyone)
    for (const s of all) drawShape(ctx, s === selected && preview ? preview : s.toJSON());
    if (draft) drawShape(octx, draft);
    if (selected) {
      const [l, tp, r, b] = bounds(preview ?? selected.toJSON());
      octx.save();
      octx.strokeStyle = "#0969da";
      octx.lineWidth = 2;
      octx.setLineDash([8, 6]);
      octx.strokeRect(l - 6, tp - 6, r - l + 12, b - tp + 12);
      octx.setLineDash([]);
      octx.fillStyle = "#0969da";
      octx.fillRect(r + 6 - HANDLE / 2, b + 6 - HANDLE / 2, HANDLE, HANDLE);
      octx.restore();
    }
    deleteButton.disabled = !selected || !provider.editable;
    for (const [id, state] of provider.awareness.getStates()) {
      if (id === me || !state || (state.page ?? "shapes") !== pageKey(page)) continue; // on another page
      if (state.drawing) drawShape(octx, state.drawing);
      if (Array.isArray(state.laser) && state.laser.length) drawLaser(octx, state.laser);
      if (state.cursor && state.user?.name) {
        const who = state.user.color || clientColour(id);
        octx.fillStyle = who;
        octx.beginPath();
        octx.arc(state.cursor.x, state.cursor.y, 6, 0, Math.PI * 2);
        octx.fill();
        octx.font = "18px sans-serif";
        octx.fillText(state.user.name, state.cursor.x + 10, state.cursor.y + 20);
      }
    }
    undoButton.disabled = !undo.canUndo();
    redoButton.disabled = !undo.canRedo();
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };

  const showStatus = () => {
    const editable = provider.editable;
    status.textContent =
      provider.status !== "connected"
        ? t(provider.status === "closed" ? "collab.closed" : "collab.offline")
        : !provider.writable
          ? t("collab.readOnly")
          : provider.locked && provider.presenters
            ? t(provider.host || provider.presenter ? "collab.lockedPresentersMay" : "collab.lockedPresenters")
            : provider.locked
              ? t(provider.host ? "collab.lockedHost" : "collab.locked")
              : "";
    const always = ["export-png", "export-svg", "export-pdf", "zoom-in", "zoom-out", "zoom-reset", "page-prev", "page-next"]; // watching people may save the picture and point at it
    for (const b of bar.querySelectorAll("button, input")) b.disabled = !editable && !always.includes(b.dataset.boardAction) && !["laser", "hand"].includes(b.dataset.tool);
    if (!editable) selected = preview = gesture = null;
    prevButton.disabled = page === 0;
    nextButton.disabled = page >= pages.length;
    for (const [b, pressed] of [
      [lockButton, provider.locked && !provider.presenters],
      [presentersButton, provider.locked && provider.presenters],
    ]) {
      b.hidden = !provider.host;
      b.disabled = provider.status !== "connected";
      b.setAttribute("aria-pressed", String(pressed));
    }
    canvas.style.cursor = editable ? "crosshair" : "default";
    container.dataset.editable = String(editable);
    schedule();
  };

  // Zoom (0.5x to 4x) and pan are this page's own: others keep their view.
  const view = { scale: 1, x: 0, y: 0 };
  const onCanvas = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) / r.width) * WIDTH, ((ev.clientY - r.top) / r.height) * HEIGHT];
  };
  const toBoard = (ev) => {
    const [cx, cy] = onCanvas(ev);
    return [view.x + cx / view.scale, view.y + cy / view.scale];
  };
  const setView = (scale, x, y) => {
    view.scale = Math.min(4, Math.max(0.5, scale));
    // Keep some of the board in sight: the view's corner stays within the board (or centres a zoomed-out board).
    const w = WIDTH / view.scale;
    const h = HEIGHT / view.scale;
    view.x = w >= WIDTH ? (WIDTH - w) / 2 : Math.min(WIDTH - w, Math.max(0, x));
    view.y = h >= HEIGHT ? (HEIGHT - h) / 2 : Math.min(HEIGHT - h, Math.max(0, y));
    zoomLabel.textContent = `${Math.round(view.scale * 100)}%`;
    zoomLabel.title = t("collab.zoomReset", { zoom: zoomLabel.textContent });
    zoomLabel.setAttribute("aria-label", zoomLabel.title);
    schedule();
  };
  /** Zoom by `factor` keeping the board point under canvas point (cx, cy) where it is. */
  const zoomAt = (factor, cx = WIDTH / 2, cy = HEIGHT / 2) => {
    const bx = view.x + cx / view.scale;
    const by = view.y + cy / view.scale;
    const scale = Math.min(4, Math.max(0.5, view.scale * factor));
    setView(scale, bx - cx / scale, by - cy / scale);
  };
  let panning = null; // [canvas x, canvas y, view x, view y] where the hand tool's drag began
  let draft = null;
  let erasing = false;
  let selected = null; // the Y.Map the select tool picked
  let gesture = null; // { kind: "move" | "resize", start: [x, y], box }
  let preview = null; // the selected shape as it is being moved or resized (committed when the pointer lifts)
  let laser = null; // this page's laser pointer trail (awareness only)
  let outLaser = false;
  // Cursor and stroke-in-flight go out at most once per animation frame, and only a stroke's latest points (an
  // awareness state is at most 8 KB on the server): the finished stroke carries them all.
  let outCursor;
  let outDraft = false;
  const publishDraft = () => (outDraft = true);
  const flushAwareness = () => {
    if (outCursor !== undefined) provider.awareness.setLocalStateField("cursor", outCursor);
    if (outDraft) {
      const tail = draft?.tool === "pen" ? { ...draft, points: draft.points.slice(-100).map(([x, y]) => [Math.round(x), Math.round(y)]) } : draft;
      provider.awareness.setLocalStateField("drawing", tail);
    }
    if (outLaser) provider.awareness.setLocalStateField("laser", laser && laser.slice(-20).map(([x, y]) => [Math.round(x), Math.round(y)]));
    outCursor = undefined;
    outDraft = false;
    outLaser = false;
  };
  const eraseAt = (x, y) => {
    const hits = [];
    shapes.toArray().forEach((s, i) => {
      if (distanceTo(s.toJSON(), x, y) <= 12) hits.push(i);
    });
    if (hits.length) provider.ydoc.transact(() => hits.reverse().forEach((i) => shapes.delete(i, 1)), LOCAL);
  };
  const editable = () => container.dataset.editable === "true";
  // The topmost shape at (x, y): inside a filled or closed shape's box, or near a line.
  const pick = (x, y) => {
    const all = shapes.toArray();
    for (let i = all.length - 1; i >= 0; i--) {
      const s = all[i].toJSON();
      const [l, tp, r, b] = bounds(s);
      const inside = x >= l && x <= r && y >= tp && y <= b;
      if ((["rect", "ellipse", "sticky", "text"].includes(s.tool) && inside) || distanceTo(s, x, y) <= 12) return all[i];
    }
    return null;
  };
  const gestureMap = (g, x, y) => {
    const [dx, dy] = [x - g.start[0], y - g.start[1]];
    if (g.kind === "move") return (px, py) => [px + dx, py + dy];
    const [l, tp, r, b] = g.box;
    const sx = Math.max(10, r - l + dx) / Math.max(1, r - l);
    const sy = Math.max(10, b - tp + dy) / Math.max(1, b - tp);
    return (px, py) => [l + (px - l) * sx, tp + (py - tp) * sy];
  };
  const roundShape = (s) => transformed(s, (x, y) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]);
  const showPage = (i) => {
    const n = Math.max(0, Math.min(pages.length, i));
    if (n !== page) {
      shapes.unobserveDeep(schedule);
      page = n;
      shapes = provider.ydoc.getArray(pageKey(page));
      undo.addToScope(shapes);
      shapes.observeDeep(schedule);
      selected = preview = gesture = draft = null;
      provider.awareness.setLocalStateField("page", pageKey(page));
    }
    pageLabel.textContent = t("collab.pageOf", { page: String(page + 1), pages: String(pages.length + 1) });
    prevButton.disabled = page === 0;
    nextButton.disabled = page >= pages.length;
    schedule();
  };
  const addPage = () => {
    const id = `${me.toString(36)}-${Date.now().toString(36)}`;
    provider.ydoc.transact(() => pages.push([id]), LOCAL);
    showPage(pages.length);
  };
  const onPages = () => showPage(page); // added elsewhere (or an add undone): the label and the bounds change
  // The board as a PDF: every page as everyone sees it (no cursors), one PDF page each.
  const boardPdf = () => {
    const off = document.createElement("canvas");
    off.width = WIDTH;
    off.height = HEIGHT;
    const g = off.getContext("2d");
    const pictures = [];
    for (let i = 0; i <= pages.length; i++) {
      g.fillStyle = "#ffffff";
      g.fillRect(0, 0, WIDTH, HEIGHT);
      for (const m of provider.ydoc.getArray(pageKey(i)).toArray()) drawShape(g, m.toJSON());
      pictures.push({ jpeg: canvasJpeg(off), width: WIDTH, height: HEIGHT });
    }
    return picturesToPdf(pictures);
  };
  const deleteSelected = () => {
    const i = selected ? shapes.toArray().indexOf(selected) : -1;
    selected = preview = gesture = null;
    if (i >= 0) provider.ydoc.transact(() => shapes.delete(i, 1), LOCAL);
    schedule();
  };

  // Pointer input: stage-level, so the overlay canvas on top does not swallow it.
  stage.addEventListener("pointerdown", (ev) => {
    const [x, y] = toBoard(ev);
    if (tool === "hand" || ev.button === 1) {
      stage.setPointerCapture?.(ev.pointerId);
      panning = [...onCanvas(ev), view.x, view.y];
      return;
    }
    if (tool === "laser") {
      // Pointing changes nothing in the document: anyone who may watch may point.
      stage.setPointerCapture?.(ev.pointerId);
      laser = [[x, y]];
      outLaser = true;
      return schedule();
    }
    if (!editable()) return;
    stage.setPointerCapture?.(ev.pointerId);
    if (tool === "select") {
      stage.focus({ preventScroll: true }); // Delete and Backspace delete the selected shape
      const box = selected && bounds(selected.toJSON());
      if (box && Math.abs(x - (box[2] + 6)) <= HANDLE && Math.abs(y - (box[3] + 6)) <= HANDLE) {
        gesture = { kind: "resize", start: [x, y], box };
      } else {
        selected = pick(x, y);
        gesture = selected && { kind: "move", start: [x, y] };
      }
      preview = null;
      return schedule();
    }
    if (tool === "sticky") {
      const [w, h] = STICKY_SIZE;
      const note = { tool: "sticky", color: colour, size: width, x1: x, y1: y, x2: x + w, y2: y + h, text: textInput.value.trim() };
      provider.ydoc.transact(() => shapes.push([new Y.Map(Object.entries(note))]), LOCAL);
      return schedule();
    }
    if (tool === "eraser") {
      erasing = true;
      eraseAt(x, y);
    } else if (tool === "text") {
      const text = textInput.value.trim();
      if (text) provider.ydoc.transact(() => shapes.push([new Y.Map(Object.entries({ tool: "text", color: colour, size: width, x1: x, y1: y, text }))]), LOCAL);
    } else if (tool === "pen") {
      draft = { tool, color: colour, size: width, points: [[x, y, ev.pressure || 0.5]] };
    } else {
      draft = { tool, color: colour, size: width, x1: x, y1: y, x2: x, y2: y };
    }
    schedule();
  });
  stage.addEventListener("pointermove", (ev) => {
    const [x, y] = toBoard(ev);
    outCursor = { x: Math.round(x), y: Math.round(y) };
    if (panning) {
      const [cx, cy] = onCanvas(ev);
      setView(view.scale, panning[2] - (cx - panning[0]) / view.scale, panning[3] - (cy - panning[1]) / view.scale);
    } else if (laser) {
      laser.push([x, y]);
      laser = laser.slice(-20);
      outLaser = true;
    } else if (gesture && selected) preview = transformed(selected.toJSON(), gestureMap(gesture, x, y));
    if (erasing) eraseAt(x, y);
    else if (draft?.tool === "pen") draft.points.push([x, y, ev.pressure || 0.5]);
    else if (draft) Object.assign(draft, { x2: x, y2: y });
    if (draft) publishDraft();
    schedule();
  });
  const finish = () => {
    erasing = false;
    panning = null;
    if (laser) {
      laser = null;
      outLaser = true;
      schedule();
    }
    if (gesture) {
      const done = preview;
      gesture = preview = null;
      // One transaction: one update and one undo step, however far it moved.
      if (done && selected && provider.editable) {
        const moved = roundShape(done);
        provider.ydoc.transact(() => ["x1", "y1", "x2", "y2", "points"].forEach((k) => k in moved && selected.set(k, moved[k])), LOCAL);
      }
      schedule();
    }
    if (!draft) return;
    const done = draft;
    draft = null;
    provider.awareness.setLocalStateField("drawing", null);
    const empty = done.tool === "pen" ? done.points.length < 1 : done.x1 === done.x2 && done.y1 === done.y2;
    // A lock (or a lost right) may have arrived mid-stroke: the server would refuse it, so it is not sent.
    if (!empty && provider.editable) {
      if (done.tool === "pen") done.points = done.points.map(([x, y, p]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10, Math.round(p * 100) / 100]);
      provider.ydoc.transact(() => shapes.push([new Y.Map(Object.entries(done))]), LOCAL);
    }
    schedule();
  };
  stage.addEventListener("pointerup", finish);
  stage.addEventListener("pointercancel", finish);
  stage.addEventListener("pointerleave", () => {
    outCursor = null;
    schedule();
  });

  bar.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    const action = b.dataset.boardAction;
    if (action === "tool") {
      tool = b.dataset.tool;
      if (tool !== "select") selected = preview = gesture = null;
      stage.dataset.tool = tool;
      for (const other of bar.querySelectorAll("[data-tool]")) other.setAttribute("aria-pressed", String(other === b));
    } else if (action === "colour") {
      colour = b.dataset.colour;
      for (const other of bar.querySelectorAll("[data-colour]")) other.setAttribute("aria-pressed", String(other === b));
    } else if (action === "width") {
      width = Number(b.dataset.width);
      for (const other of bar.querySelectorAll("[data-width]")) other.setAttribute("aria-pressed", String(other === b));
    } else if (action === "undo") undo.undo();
    else if (action === "redo") undo.redo();
    else if (action === "export-png") exportPng();
    else if (action === "page-prev") showPage(page - 1);
    else if (action === "page-next") showPage(page + 1);
    else if (action === "page-add") addPage();
    else if (action === "export-pdf") save(new Blob([boardPdf()], { type: "application/pdf" }), "whiteboard.pdf");
    else if (action === "export-svg") save(new Blob([toSvg(shapes.toArray().map((m) => m.toJSON()))], { type: "image/svg+xml" }), "whiteboard.svg");
    else if (action === "delete") deleteSelected();
    else if (action === "zoom-in") zoomAt(1.25);
    else if (action === "zoom-out") zoomAt(0.8);
    else if (action === "zoom-reset") setView(1, 0, 0);
    else if (action === "lock") provider.lock(!(provider.locked && !provider.presenters));
    else if (action === "lock-presenters") provider.lock(!(provider.locked && provider.presenters), true);
    schedule();
  });
  // The picture as everyone sees it (shapes only: no cursors), as a file.
  const exportPng = () => {
    const seen = { ...view }; // the whole page, whatever this page's zoom
    Object.assign(view, { scale: 1, x: 0, y: 0 });
    render();
    Object.assign(view, seen);
    canvas.toBlob((blob) => save(blob, "whiteboard.png"), "image/png");
    schedule();
  };
  const save = (blob, name) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const onKey = (ev) => {
    if (ev.target === textInput) return;
    if ((ev.key === "Delete" || ev.key === "Backspace") && selected && editable()) {
      deleteSelected();
      return ev.preventDefault();
    }
    if (!(ev.ctrlKey || ev.metaKey)) return;
    if (ev.key === "z" && !ev.shiftKey) undo.undo();
    else if (ev.key === "y" || (ev.key === "z" && ev.shiftKey)) undo.redo();
    else return;
    ev.preventDefault();
  };
  container.addEventListener("keydown", onKey);
  // Ctrl + wheel (a pinch on a touchpad) zooms at the pointer; the wheel alone pans a zoomed board.
  const onWheel = (ev) => {
    if (ev.ctrlKey) {
      const [cx, cy] = onCanvas(ev);
      zoomAt(Math.exp(-ev.deltaY / 300), cx, cy);
    } else if (view.scale > 1) setView(view.scale, view.x + ev.deltaX / view.scale, view.y + ev.deltaY / view.scale);
    else return;
    ev.preventDefault();
  };
  stage.addEventListener("wheel", onWheel, { passive: false });

  provider.awareness.setLocalStateField("user", { color: clientColour(me) });
  provider.awareness.setLocalStateField("page", pageKey(page));
  shapes.observeDeep(schedule);
  pages.observe(onPages);
  provider.awareness.on("change", schedule);
  provider.addEventListener("status", showStatus);
  undo.on("stack-item-added", schedule);
  undo.on("stack-item-popped", schedule);
  showStatus();
  showPage(0);
  render();

  return {
    canvas,
    /** The shown page's Y.Array of shapes. */
    get shapes() {
      return shapes;
    },
    /** The shown page (0-based) and how many there are. */
    get page() {
      return { index: page, count: pages.length + 1 };
    },
    showPage,
    addPage,
    pdf: () => boardPdf(),
    undo: () => undo.undo(),
    redo: () => undo.redo(),
    setTool: (name) => bar.querySelector(`[data-tool="${name}"]`)?.click(),
    setColour: (c) => bar.querySelector(`[data-colour="${c}"]`)?.click(),
    /** The shape the select tool picked (a Y.Map), or null. */
    get selected() {
      return selected;
    },
    toSvg: () => toSvg(shapes.toArray().map((m) => m.toJSON())),
    /** This page's zoom and pan: { scale, x, y } (the board point at the view's top-left corner). */
    get view() {
      return { ...view };
    },
    zoom: (factor) => zoomAt(factor),
    destroy() {
      shapes.unobserveDeep(schedule);
      pages.unobserve(onPages);
      provider.awareness.off("change", schedule);
      provider.removeEventListener("status", showStatus);
      container.removeEventListener("keydown", onKey);
      undo.destroy();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
