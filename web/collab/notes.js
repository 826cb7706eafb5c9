// Shared meeting notes: Markdown in a Y.Text ("notes") bound to a textarea; everyone's caret and selection drawn
// over it with their name; a rendered preview whose checkboxes toggle for everyone; templates for an empty
// document; export as Markdown and PDF; who changed what (docs/collaboration.md).
//
//   const notes = mountNotes(container, provider, { t, history });   notes.destroy()
//
// Local typing becomes the smallest Y.Text change (common prefix and suffix kept), so concurrent edits in one
// paragraph merge character by character; remote changes move this person's selection with the text.
//
// Carets travel in awareness as Yjs *relative* positions (anchored to a character, not a number), so a caret
// drawn here stays on the right character while anyone inserts or deletes before it. A textarea cannot draw
// others' carets: a mirror of its text (same font, padding, wrapping; transparent text) lies over it, and the
// carets and selections are elements inside that mirror's text, where the browser's own line layout places them.

import * as Y from "yjs";
import { clientColour } from "./provider.js";
import { TEMPLATES, formatLines, parseBlocks } from "./markdown.js";
import { notesPdf } from "./pdf.js";

const LOCAL = Symbol("notes-local");

/** The change from `before` to `after` as [index, deleted count, inserted text]. */
export function textDiff(before, after) {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before[start] === after[start]) start++;
  let end = 0;
  while (end < max - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return [start, before.length - start - end, after.slice(start, after.length - end)];
}

/** Where `index` (a caret) moves to under a Yjs text delta (retain / insert / delete). */
export function moveIndex(index, delta) {
  let old = 0; // position in the text before the change
  let shift = 0;
  for (const op of delta) {
    if (old > index) break;
    if (op.retain !== undefined) old += op.retain;
    else if (op.insert !== undefined) {
      // Text inserted exactly at the caret goes after it: someone typing at the same spot does not push this
      // person's caret past their words (their own next keys then follow their own text, not interleave).
      if (old < index) shift += typeof op.insert === "string" ? op.insert.length : 1;
    } else if (op.delete !== undefined) {
      if (old < index) shift -= Math.min(op.delete, index - old);
      old += op.delete;
    }
  }
  return Math.max(0, index + shift);
}

/** `text` with a Yjs text delta applied (to check that the delta describes the change to what is shown). */
export function applyDelta(text, delta) {
  let out = "";
  let pos = 0;
  for (const op of delta) {
    if (op.retain !== undefined) {
      out += text.slice(pos, pos + op.retain);
      pos += op.retain;
    } else if (op.insert !== undefined) out += typeof op.insert === "string" ? op.insert : "";
    else if (op.delete !== undefined) pos += op.delete;
  }
  return out + text.slice(pos);
}

/** A darker shade of a person's colour for the white text of their name label (WCAG AA contrast, 4.5:1): our
 * colours are hsl() (clientColour); anything else a client sent gets a neutral dark label. */
export function labelColour(colour) {
  const m = /^hsl\((\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)%\s+(\d+(?:\.\d+)?)%\)$/.exec(colour || "");
  return m ? `hsl(${m[1]} ${m[2]}% ${Math.min(Number(m[3]), 25)}%)` : "#1f2328";
}

function lineOf(text, index) {
  return text.slice(0, index).split("\n").length;
}

const STYLE = `
.notes-tools { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.notes-stage { position: relative; display: flex; flex: 1; min-height: 240px; }
.notes-stage .notes-text { flex: 1; }
.notes-overlay { position: absolute; pointer-events: none; clip-path: inset(-1.3em 0 0 0); }
.notes-mirror { box-sizing: border-box; white-space: pre-wrap; overflow-wrap: break-word; color: transparent;
  margin: 0; border: 0; width: 100%; }
.notes-caret { position: relative; }
.notes-caret-bar { position: absolute; left: -1px; top: 0; width: 2px; height: 1.25em; background: var(--who); }
.notes-caret-name { position: absolute; left: -1px; bottom: 1.25em; font-size: 0.72em; line-height: 1.2; white-space: nowrap;
  color: #fff; background: var(--who-label); padding: 0 4px; border-radius: 3px 3px 3px 0; }
.notes-selection { background: color-mix(in srgb, var(--who) 25%, transparent); color: transparent; }
.notes-preview { border-top: 1px solid color-mix(in srgb, currentColor 20%, transparent); padding-top: 4px; overflow-wrap: anywhere; }
.notes-preview :is(h3, h4, h5) { margin: 6px 0 2px; }
.notes-preview :is(ul, ol) { margin: 2px 0; padding-left: 20px; }
.notes-preview ul.tasks { list-style: none; padding-left: 2px; }
.notes-preview p { margin: 2px 0; }
.notes-history li { font-size: 0.9em; }
`;

/**
 * Mount the notes into `container`. `history()` (optional) resolves to [{ author, at, bytes }] newest first: who
 * changed the document when (the server's record, api/collab/history.py); without it there is no history button.
 */
export function mountNotes(container, provider, { t = (k) => k, history = null } = {}) {
  const ydoc = provider.ydoc;
  const ytext = ydoc.getText("notes");
  container.replaceChildren();
  const el = (tag, props = {}, ...kids) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "attrs") for (const [a, val] of Object.entries(v)) node.setAttribute(a, val);
      else node[k] = v;
    }
    node.append(...kids);
    return node;
  };
  const button = (action, label, extra = {}) =>
    el("button", { type: "button", className: "secondary", textContent: label, dataset: { notesAction: action }, ...extra });

  const style = el("style", { textContent: STYLE });
  const status = el("p", { className: "collab-status", attrs: { role: "status" } });
  const formatButtons = [
    button("heading", t("notes.heading")),
    button("bullet", t("notes.bullet")),
    button("task", t("notes.task")),
  ];
  const templateButtons = [button("template-agenda", t("notes.tpl.agendaButton")), button("template-actions", t("notes.tpl.actionsButton"))];
  const tools = el("div", { className: "notes-tools", attrs: { role: "toolbar", "aria-label": t("notes.tools") } }, ...formatButtons, ...templateButtons);
  const area = el("textarea", { className: "notes-text", spellcheck: true, dataset: { role: "notes-text" }, attrs: { "aria-label": t("collab.notes") } });
  const mirror = el("div", { className: "notes-mirror", dataset: { role: "notes-mirror" }, attrs: { "aria-hidden": "true" } });
  const overlay = el("div", { className: "notes-overlay" }, mirror);
  const stage = el("div", { className: "notes-stage" }, area, overlay);
  const people = el("ul", { className: "collab-people", dataset: { role: "notes-people" }, attrs: { "aria-label": t("collab.whoIsHere") } });
  const preview = el("div", { className: "notes-preview", dataset: { role: "notes-preview" }, attrs: { "aria-label": t("notes.preview") } });
  const exportLink = button("", t("collab.exportMarkdown"), { dataset: { action: "notes-export" } });
  const exportPdf = button("", t("notes.exportPdf"), { dataset: { action: "notes-export-pdf" } });
  const historyButton = button("", t("notes.history"), { dataset: { action: "notes-history" }, hidden: !history });
  const historyList = el("ol", { className: "notes-history", dataset: { role: "notes-history" }, hidden: true, attrs: { "aria-label": t("notes.history") } });
  const exports = el("div", { className: "notes-tools" }, exportLink, exportPdf, historyButton);
  container.append(style, status, tools, stage, people, preview, exports, historyList);

  let shown = ytext.toString();
  area.value = shown;

  const showStatus = () => {
    const bits = [];
    if (provider.status !== "connected") bits.push(t(provider.status === "closed" ? "collab.closed" : "collab.offline"));
    if (provider.status === "connected" && !provider.writable) bits.push(t("collab.readOnly"));
    else if (provider.status === "connected" && provider.locked) bits.push(t(provider.host ? "collab.lockedHost" : "collab.locked"));
    status.textContent = bits.join(" · ");
    area.readOnly = !provider.editable;
    for (const b of formatButtons) b.disabled = !provider.editable;
    showTemplates();
    renderPreview();
  };
  const showTemplates = () => {
    for (const b of templateButtons) b.hidden = ytext.length > 0 || !provider.editable;
  };

  /** Apply [index, deleted, inserted] edits (given last first) as one local transaction. */
  const edit = (edits) =>
    ydoc.transact(() => {
      for (const [index, removed, inserted] of edits) {
        if (removed) ytext.delete(index, removed);
        if (inserted) ytext.insert(index, inserted);
      }
    }, LOCAL);

  area.addEventListener("input", () => {
    const [index, removed, inserted] = textDiff(shown, area.value);
    shown = area.value;
    edit([[index, removed, inserted]]);
    sendCaret();
  });
  const observer = (event, tr) => {
    const now = ytext.toString();
    if (now !== area.value) {
      const { selectionStart, selectionEnd } = area;
      const focused = document.activeElement === area || area.getRootNode().activeElement === area;
      // The delta says exactly where others' text went, when it applies to what the textarea shows. It does not
      // when Yjs also integrated updates it had been holding (their dependencies arrived with this one, or in our
      // own transaction): then the smallest diff between the two texts places the caret instead.
      const exact = tr.origin !== LOCAL && applyDelta(area.value, event.delta) === now;
      const [at, removed, inserted] = exact ? [0, 0, ""] : textDiff(area.value, now);
      const move = (c) => (exact ? moveIndex(c, event.delta) : c <= at ? c : c >= at + removed ? c + inserted.length - removed : at);
      area.value = now;
      if (focused) area.setSelectionRange(move(selectionStart), move(selectionEnd));
    }
    shown = now;
    showTemplates();
    renderCarets();
    renderPreview();
  };
  ytext.observe(observer);

  // -- carets: ours out as relative positions, everyone else's drawn in the mirror -------------------------------
  // assoc -1 ties a caret to the character before it: text someone inserts exactly at the caret lands after it,
  // as moveIndex does for this person's own caret (so every screen shows the caret at the same place).
  const relative = (index) => Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(ytext, index, -1));
  const absolute = (json) => {
    try {
      const abs = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(json), ydoc);
      return abs && abs.type === ytext ? abs.index : null;
    } catch {
      return null; // a malformed position from someone else's client: draw no caret rather than break the notes
    }
  };
  let sent = "";
  const sendCaret = () => {
    const forward = area.selectionDirection !== "backward";
    const [anchor, head] = forward ? [area.selectionStart, area.selectionEnd] : [area.selectionEnd, area.selectionStart];
    const key = `${anchor}:${head}:${shown.length}`;
    if (key === sent) return;
    sent = key;
    provider.awareness.setLocalStateField("caret", { anchor: relative(anchor), head: relative(head) });
  };
  for (const type of ["select", "keyup", "click", "focus"]) area.addEventListener(type, sendCaret);
  document.addEventListener("selectionchange", sendCaret);
  provider.awareness.setLocalStateField("user", { color: clientColour(ydoc.clientID) });

  /** Everyone else's caret: [{ id, name, colour, anchor, head }] with absolute indices in the current text. */
  const carets = () => {
    const out = [];
    for (const [id, state] of provider.awareness.getStates()) {
      if (id === ydoc.clientID || !state?.user?.name || !state.caret) continue;
      const head = absolute(state.caret.head);
      const anchor = absolute(state.caret.anchor) ?? head;
      if (head === null) continue;
      out.push({ id, name: state.user.name, colour: state.user.color || clientColour(id), anchor, head });
    }
    return out;
  };

  const copyLayout = () => {
    const cs = getComputedStyle(area);
    for (const p of ["fontFamily", "fontSize", "fontWeight", "fontStyle", "lineHeight", "letterSpacing", "wordSpacing", "tabSize", "textIndent", "textTransform", "wordBreak", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft"])
      mirror.style[p] = cs[p];
    Object.assign(overlay.style, {
      left: `${area.offsetLeft + area.clientLeft}px`,
      top: `${area.offsetTop + area.clientTop}px`,
      width: `${area.clientWidth}px`,
      height: `${area.clientHeight}px`,
    });
    mirror.style.transform = `translateY(${-area.scrollTop}px)`;
  };

  const renderCarets = () => {
    copyLayout();
    const text = shown;
    const list = carets();
    // Cut the text at every caret and selection edge; each piece is plain text or a selection highlight.
    const cuts = new Set([0, text.length]);
    for (const c of list) cuts.add(Math.min(c.anchor, text.length)).add(Math.min(c.head, text.length));
    const points = [...cuts].sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i < points.length; i++) {
      const at = points[i];
      for (const c of list)
        if (Math.min(c.head, text.length) === at) {
          const caret = el(
            "span",
            { className: "notes-caret", dataset: { role: "notes-caret", name: c.name, index: String(at) } },
            el("span", { className: "notes-caret-bar" }),
            el("span", { className: "notes-caret-name", textContent: c.name }),
          );
          caret.style.setProperty("--who", c.colour);
          caret.style.setProperty("--who-label", labelColour(c.colour));
          nodes.push(caret);
        }
      if (i + 1 === points.length) break;
      const piece = text.slice(at, points[i + 1]);
      const sel = list.find((c) => Math.min(c.anchor, c.head) <= at && points[i + 1] <= Math.max(c.anchor, c.head));
      if (sel) {
        const mark = el("span", { className: "notes-selection", textContent: piece, dataset: { role: "notes-selection", name: sel.name } });
        mark.style.setProperty("--who", sel.colour);
        nodes.push(mark);
      } else nodes.push(document.createTextNode(piece));
    }
    nodes.push(document.createTextNode("\u200b")); // a last empty line still has a height, as in the textarea
    mirror.replaceChildren(...nodes);
    renderPeople(list);
  };

  const renderPeople = (list) => {
    const items = [];
    const withCaret = new Set(list.map((c) => c.id));
    for (const [id, state] of provider.awareness.getStates()) {
      if (id === ydoc.clientID || !state?.user?.name) continue;
      const c = withCaret.has(id) ? list.find((x) => x.id === id) : null;
      const li = el("li", { textContent: c ? t("collab.onLine", { name: state.user.name, line: lineOf(shown, c.head) }) : state.user.name });
      li.style.setProperty("--who", state.user.color || clientColour(id));
      items.push(li);
    }
    people.replaceChildren(...items);
  };
  provider.awareness.on("change", renderCarets);
  area.addEventListener("scroll", () => (mirror.style.transform = `translateY(${-area.scrollTop}px)`));
  const resized = new ResizeObserver(() => renderCarets());
  resized.observe(area);

  // -- headings, lists, checkboxes ---------------------------------------------------------------------------
  for (const b of formatButtons)
    b.addEventListener("click", () => {
      edit(formatLines(shown, area.selectionStart, area.selectionEnd, b.dataset.notesAction));
      area.focus();
    });
  const renderPreview = () => {
    const out = [];
    let list = null;
    const listOf = (tag, cls = "") => {
      if (!list || list.tagName !== tag.toUpperCase() || list.className !== cls) {
        list = el(tag, { className: cls });
        out.push(list);
      }
      return list;
    };
    for (const b of parseBlocks(shown)) {
      if (b.kind === "task") {
        const box = el("input", { type: "checkbox", checked: b.checked, disabled: !provider.editable, dataset: { role: "notes-checkbox", box: String(b.box) } });
        box.setAttribute("aria-label", b.text || t("notes.task"));
        box.addEventListener("change", () => toggle(b.box, box.checked));
        listOf("ul", "tasks").append(el("li", {}, el("label", {}, box, ` ${b.text}`)));
        continue;
      }
      if (b.kind === "bullet") listOf("ul").append(el("li", { textContent: b.text }));
      else if (b.kind === "numbered") listOf("ol").append(el("li", { textContent: b.text }));
      else {
        list = null;
        if (b.kind === "heading") out.push(el(`h${b.level + 2}`, { textContent: b.text }));
        else if (b.kind === "text") out.push(el("p", { textContent: b.text }));
      }
    }
    preview.replaceChildren(...out);
  };
  // A checkbox is the one character between its brackets: replacing it merges with anyone's typing elsewhere.
  const toggle = (index, checked) => {
    const now = ytext.toString();
    if (now[index - 1] !== "[" || now[index + 1] !== "]") return renderPreview(); // the line changed meanwhile
    edit([[index, 1, checked ? "x" : " "]]);
  };

  // -- templates and exports ---------------------------------------------------------------------------------
  for (const b of templateButtons)
    b.addEventListener("click", () => {
      if (ytext.length > 0) return showTemplates(); // someone wrote first: a template only seeds an empty document
      edit([[0, 0, TEMPLATES[b.dataset.notesAction.slice("template-".length)](t)]]);
    });
  const save = (bytes, type, name) => {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([bytes], { type }));
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  exportLink.addEventListener("click", () => save(ytext.toString(), "text/markdown", "meeting-notes.md"));
  exportPdf.addEventListener("click", () => save(notesPdf(ytext.toString(), { title: t("collab.notes") }), "application/pdf", "meeting-notes.pdf"));
  historyButton.addEventListener("click", async () => {
    historyList.hidden = false;
    try {
      const changes = await history();
      historyList.replaceChildren(
        ...changes.map((c) =>
          el("li", { dataset: { role: "notes-change", author: c.author }, textContent: t("notes.changed", { name: c.author, time: new Date(c.at).toLocaleString() }) }),
        ),
      );
      if (!changes.length) historyList.replaceChildren(el("li", { textContent: t("notes.noHistory") }));
    } catch (err) {
      historyList.replaceChildren(el("li", { textContent: err?.message || String(err) }));
    }
  });

  provider.addEventListener("status", showStatus);
  showStatus();
  renderCarets();

  return {
    area,
    markdown: () => ytext.toString(),
    pdf: () => notesPdf(ytext.toString(), { title: t("collab.notes") }),
    destroy() {
      ytext.unobserve(observer);
      provider.awareness.off("change", renderCarets);
      provider.removeEventListener("status", showStatus);
      document.removeEventListener("selectionchange", sendCaret);
      resized.disconnect();
    },
  };
}
