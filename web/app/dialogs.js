// Modal confirmations and one-field prompts as native <dialog>s (focus trapped and restored by the browser,
// Escape cancels), built from the catalogue's words.
import { t } from "../i18n/index.js";

function open(build) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    const form = document.createElement("form");
    form.method = "dialog";
    dialog.append(form);
    const result = build(form);
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? result() : null);
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

function actions(form, okLabel, danger) {
  const row = document.createElement("div");
  row.className = "dialog-actions";
  const cancel = Object.assign(document.createElement("button"), { value: "cancel", textContent: t("dialog.cancel") });
  const ok = Object.assign(document.createElement("button"), { value: "ok", textContent: okLabel, className: danger ? "btn-danger-fill" : "btn-primary" });
  ok.dataset.action = "confirm";
  row.append(cancel, ok);
  form.append(row);
}

/** Resolves true when confirmed. */
export async function confirmDialog(text, okLabel = t("dialog.confirm")) {
  const answer = await open((form) => {
    const p = document.createElement("p");
    p.textContent = text;
    form.append(p);
    actions(form, okLabel, true);
    return () => true;
  });
  return answer === true;
}

/** Resolves the text entered, or null when cancelled. */
export function promptDialog(label, value = "") {
  return open((form) => {
    const l = document.createElement("label");
    l.textContent = label;
    const input = Object.assign(document.createElement("input"), { value, required: true, name: "value" });
    l.append(input);
    form.append(l);
    actions(form, t("dialog.ok"), false);
    queueMicrotask(() => input.select());
    return () => input.value.trim() || null;
  });
}
