// Shared meeting notes: a Y.Text ("notes") bound to a textarea, who is where (by name and line), Markdown export.
//
//   const notes = mountNotes(container, provider, { t });   notes.destroy()
//
// Local typing becomes the smallest Y.Text change (common prefix and suffix kept), so concurrent edits in one
// paragraph merge character by character; remote changes move this person's selection with the text.

import { clientColour } from "./provider.js";

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

function lineOf(text, index) {
  return text.slice(0, index).split("\n").length;
}

export function mountNotes(container, provider, { t = (k) => k } = {}) {
  const ytext = provider.ydoc.getText("notes");
  container.replaceChildren();
  const status = document.createElement("p");
  status.className = "collab-status";
  status.setAttribute("role", "status");
  const area = document.createElement("textarea");
  area.className = "notes-text";
  area.dataset.role = "notes-text";
  area.setAttribute("aria-label", t("collab.notes"));
  area.spellcheck = true;
  const people = document.createElement("ul");
  people.className = "collab-people";
  people.dataset.role = "notes-people";
  people.setAttribute("aria-label", t("collab.whoIsHere"));
  const exportLink = document.createElement("button");
  exportLink.type = "button";
  exportLink.className = "secondary";
  exportLink.dataset.action = "notes-export";
  exportLink.textContent = t("collab.exportMarkdown");
  container.append(status, area, people, exportLink);

  let shown = ytext.toString();
  area.value = shown;

  const showStatus = () => {
    const bits = [];
    if (provider.status !== "connected") bits.push(t(provider.status === "closed" ? "collab.closed" : "collab.offline"));
    if (provider.status === "connected" && !provider.writable) bits.push(t("collab.readOnly"));
    else if (provider.status === "connected" && provider.locked) bits.push(t(provider.host ? "collab.lockedHost" : "collab.locked"));
    status.textContent = bits.join(" · ");
    area.readOnly = !provider.editable;
  };

  area.addEventListener("input", () => {
    const [index, removed, inserted] = textDiff(shown, area.value);
    shown = area.value;
    provider.ydoc.transact(() => {
      if (removed) ytext.delete(index, removed);
      if (inserted) ytext.insert(index, inserted);
    }, LOCAL);
  });
  const observer = (event, tr) => {
    const now = ytext.toString();
    if (now === area.value) {
      shown = now;
      return; // our own typing (already in the textarea)
    }
    const { selectionStart, selectionEnd } = area;
    const focused = document.activeElement === area || area.getRootNode().activeElement === area;
    // The delta says exactly where others' text went, when it applies to what the textarea shows. It does not
    // when Yjs also integrated updates it had been holding (their dependencies arrived with this one, or in our
    // own transaction): then the smallest diff between the two texts places the caret instead.
    const exact = tr.origin !== LOCAL && applyDelta(area.value, event.delta) === now;
    const [at, removed, inserted] = exact ? [0, 0, ""] : textDiff(area.value, now);
    const move = (c) => (exact ? moveIndex(c, event.delta) : c <= at ? c : c >= at + removed ? c + inserted.length - removed : at);
    shown = now;
    area.value = now;
    if (focused) area.setSelectionRange(move(selectionStart), move(selectionEnd));
  };
  ytext.observe(observer);

  // Cursors by name: where each person's caret is, as a line number (a textarea cannot draw others' carets).
  const sendCaret = () => provider.awareness.setLocalStateField("caret", { index: area.selectionStart, line: lineOf(shown, area.selectionStart) });
  area.addEventListener("select", sendCaret);
  area.addEventListener("keyup", sendCaret);
  area.addEventListener("click", sendCaret);
  provider.awareness.setLocalStateField("user", { color: clientColour(provider.ydoc.clientID) });
  const renderPeople = () => {
    const items = [];
    for (const [id, state] of provider.awareness.getStates()) {
      if (id === provider.ydoc.clientID || !state?.user?.name) continue;
      const li = document.createElement("li");
      li.style.setProperty("--who", state.user.color || clientColour(id));
      li.textContent = state.caret ? t("collab.onLine", { name: state.user.name, line: state.caret.line }) : state.user.name;
      items.push(li);
    }
    people.replaceChildren(...items);
  };
  provider.awareness.on("change", renderPeople);
  provider.addEventListener("status", showStatus);
  showStatus();
  renderPeople();

  exportLink.addEventListener("click", () => {
    const blob = new Blob([ytext.toString()], { type: "text/markdown" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "meeting-notes.md";
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  return {
    area,
    markdown: () => ytext.toString(),
    destroy() {
      ytext.unobserve(observer);
      provider.awareness.off("change", renderPeople);
      provider.removeEventListener("status", showStatus);
    },
  };
}
