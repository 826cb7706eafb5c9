// A shared whiteboard: shapes in a Y.Array ("shapes") of Y.Maps, drawn on a canvas of fixed logical size so
// every screen renders the same picture. Tools: pen (perfect-freehand), rectangle, ellipse, arrow, text, eraser;
// colours; undo/redo of one's own changes (Y.UndoManager tracks only this page's origin); others' cursors and
// strokes in flight with their names.
//
// A stroke in flight travels in awareness (ephemeral, never stored); the finished stroke is one Y.Map pushed in
// one transaction: one update to store, however many points it has.
//
//   const board = mountBoard(container, provider, { t });   board.undo()  board.redo()  board.destroy()

import * as Y from "yjs";
import { getStroke } from "perfect-freehand";
import { clientColour } from "./provider.js";

export const WIDTH = 1600;
export const HEIGHT = 900;
export const COLOURS = ["#1f2328", "#d1242f", "#1a7f37", "#0969da", "#bf8700", "#8250df"];
const TOOLS = [
  ["pen", "pencil"],
  ["rect", "square"],
  ["ellipse", "circle"],
  ["arrow", "move-up-right"],
  ["text", "type"],
  ["eraser", "eraser"],
];
const LOCAL = Symbol("board-local");

function strokePath(points, size) {
  const outline = getStroke(points, { size, thinning: 0.5, smoothing: 0.5, streamline: 0.4, simulatePressure: points.every((p) => p[2] === undefined || p[2] === 0.5) });
  const path = new Path2D();
  if (!outline.length) return path;
  path.moveTo(outline[0][0], outline[0][1]);
  for (const [x, y] of outline.slice(1)) path.lineTo(x, y);
  path.closePath();
  return path;
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
  if (s.tool === "arrow") return seg(x1, y1, x2, y2);
  if (s.tool === "text") return x >= x1 && y >= y1 && x <= x1 + (s.text?.length || 1) * (s.size || 4) * 4 && y <= y1 + (s.size || 4) * 7 ? 0 : Infinity;
  const [l, r, tp, b] = [Math.min(x1, x2), Math.max(x1, x2), Math.min(y1, y2), Math.max(y1, y2)];
  return Math.min(seg(l, tp, r, tp), seg(r, tp, r, b), seg(l, b, r, b), seg(l, tp, l, b));
}

export function mountBoard(container, provider, { t = (k) => k, icon = null } = {}) {
  const shapes = provider.ydoc.getArray("shapes");
  const undo = new Y.UndoManager(shapes, { trackedOrigins: new Set([LOCAL]), captureTimeout: 0 });
  const me = provider.ydoc.clientID;
  let tool = "pen";
  let colour = COLOURS[0];

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
  const textInput = document.createElement("input");
  textInput.dataset.role = "board-text";
  textInput.placeholder = t("collab.textPlaceholder");
  textInput.setAttribute("aria-label", t("collab.textPlaceholder"));
  bar.append(textInput);
  const undoButton = button("undo", t("collab.undo"), "undo-2");
  const redoButton = button("redo", t("collab.redo"), "redo-2");
  button("export-png", t("collab.exportPng"), "download");
  const lockButton = button("lock", t("collab.lock"), "lock");
  lockButton.setAttribute("aria-pressed", "false");
  const status = document.createElement("p");
  status.className = "collab-status";
  status.setAttribute("role", "status");

  const stage = document.createElement("div");
  stage.className = "board-stage";
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
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, WIDTH, HEIGHT);
    for (const s of shapes.toArray()) drawShape(ctx, s.toJSON());
    octx.clearRect(0, 0, WIDTH, HEIGHT);
    if (draft) drawShape(octx, draft);
    for (const [id, state] of provider.awareness.getStates()) {
      if (id === me || !state) continue;
      if (state.drawing) drawShape(octx, state.drawing);
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
          : provider.locked
            ? t(provider.host ? "collab.lockedHost" : "collab.locked")
            : "";
    for (const b of bar.querySelectorAll("button, input")) b.disabled = !editable && b.dataset.boardAction !== "export-png";
    lockButton.hidden = !provider.host;
    lockButton.disabled = provider.status !== "connected";
    lockButton.setAttribute("aria-pressed", String(provider.locked));
    canvas.style.cursor = editable ? "crosshair" : "default";
    container.dataset.editable = String(editable);
    schedule();
  };

  const toBoard = (ev) => {
    const r = canvas.getBoundingClientRect();
    return [((ev.clientX - r.left) / r.width) * WIDTH, ((ev.clientY - r.top) / r.height) * HEIGHT];
  };
  let draft = null;
  let erasing = false;
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
    outCursor = undefined;
    outDraft = false;
  };
  const eraseAt = (x, y) => {
    const hits = [];
    shapes.toArray().forEach((s, i) => {
      if (distanceTo(s.toJSON(), x, y) <= 12) hits.push(i);
    });
    if (hits.length) provider.ydoc.transact(() => hits.reverse().forEach((i) => shapes.delete(i, 1)), LOCAL);
  };
  const editable = () => container.dataset.editable === "true";

  // Pointer input: stage-level, so the overlay canvas on top does not swallow it.
  stage.addEventListener("pointerdown", (ev) => {
    if (!editable()) return;
    const [x, y] = toBoard(ev);
    stage.setPointerCapture?.(ev.pointerId);
    if (tool === "eraser") {
      erasing = true;
      eraseAt(x, y);
    } else if (tool === "text") {
      const text = textInput.value.trim();
      if (text) provider.ydoc.transact(() => shapes.push([new Y.Map(Object.entries({ tool: "text", color: colour, size: 4, x1: x, y1: y, text }))]), LOCAL);
    } else if (tool === "pen") {
      draft = { tool, color: colour, size: 4, points: [[x, y, ev.pressure || 0.5]] };
    } else {
      draft = { tool, color: colour, size: 4, x1: x, y1: y, x2: x, y2: y };
    }
    schedule();
  });
  stage.addEventListener("pointermove", (ev) => {
    const [x, y] = toBoard(ev);
    outCursor = { x: Math.round(x), y: Math.round(y) };
    if (erasing) eraseAt(x, y);
    else if (draft?.tool === "pen") draft.points.push([x, y, ev.pressure || 0.5]);
    else if (draft) Object.assign(draft, { x2: x, y2: y });
    if (draft) publishDraft();
    schedule();
  });
  const finish = () => {
    erasing = false;
    if (!draft) return;
    const done = draft;
    draft = null;
    provider.awareness.setLocalStateField("drawing", null);
    const empty = done.tool === "pen" ? done.points.length < 1 : done.x1 === done.x2 && done.y1 === done.y2;
    if (!empty) {
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
      for (const other of bar.querySelectorAll("[data-tool]")) other.setAttribute("aria-pressed", String(other === b));
    } else if (action === "colour") {
      colour = b.dataset.colour;
      for (const other of bar.querySelectorAll("[data-colour]")) other.setAttribute("aria-pressed", String(other === b));
    } else if (action === "undo") undo.undo();
    else if (action === "redo") undo.redo();
    else if (action === "export-png") exportPng();
    else if (action === "lock") provider.lock(!provider.locked);
    schedule();
  });
  // The picture as everyone sees it (shapes only: no cursors), as a file.
  const exportPng = () => {
    render();
    canvas.toBlob((blob) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "whiteboard.png";
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, "image/png");
  };
  const onKey = (ev) => {
    if (!(ev.ctrlKey || ev.metaKey) || ev.target === textInput) return;
    if (ev.key === "z" && !ev.shiftKey) undo.undo();
    else if (ev.key === "y" || (ev.key === "z" && ev.shiftKey)) undo.redo();
    else return;
    ev.preventDefault();
  };
  container.addEventListener("keydown", onKey);

  provider.awareness.setLocalStateField("user", { color: clientColour(me) });
  shapes.observeDeep(schedule);
  provider.awareness.on("change", schedule);
  provider.addEventListener("status", showStatus);
  undo.on("stack-item-added", schedule);
  undo.on("stack-item-popped", schedule);
  showStatus();
  render();

  return {
    canvas,
    shapes,
    undo: () => undo.undo(),
    redo: () => undo.redo(),
    setTool: (name) => bar.querySelector(`[data-tool="${name}"]`)?.click(),
    setColour: (c) => bar.querySelector(`[data-colour="${c}"]`)?.click(),
    destroy() {
      shapes.unobserveDeep(schedule);
      provider.awareness.off("change", schedule);
      provider.removeEventListener("status", showStatus);
      container.removeEventListener("keydown", onKey);
      undo.destroy();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
