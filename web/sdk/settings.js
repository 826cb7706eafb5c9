// The meeting's settings panel (More → Settings): camera and microphone, virtual background, light or dark theme, language, hiding
// your own tile. Loaded when first opened. Choices are kept in localStorage; the language applies to pages
// opened from then on (the meeting's own texts were rendered when it opened).

import { LANGUAGES, lang, setLanguage, t } from "../i18n/index.js";
import { backgroundPicker, saveBackground } from "./background.js";
import { h } from "./dom.js";

export const THEME_KEY = "meetmesh.meetingTheme";

export async function renderSettings(el) {
  const room = el.room;
  const body = el.shadowRoot.querySelector('[data-role="settings-body"]');
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = (kind) => room?.stream?.getTracks().find((tr) => tr.kind === kind)?.getSettings().deviceId;
  const deviceSelect = (kind, trackKind, label) => {
    const select = h(
      "select",
      { dataset: { setting: kind } },
      devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${label} ${i + 1}`, d.deviceId, false, d.deviceId === current(trackKind))),
    );
    select.addEventListener("change", async () => {
      try {
        await room.switchDevice(kind, select.value);
        if (kind === "videoinput") el._showSelf();
      } catch (err) {
        el._toast(err.message);
      }
    });
    return h("label", {}, label, " ", select);
  };
  const theme = el.getAttribute("theme") === "light" ? "light" : "dark";
  const themeChoice = (value) => {
    const input = h("input", { type: "radio", name: "mm-theme", value, checked: theme === value, dataset: { setting: "theme" } });
    input.addEventListener("change", () => {
      el.setAttribute("theme", value);
      try {
        localStorage.setItem(THEME_KEY, value);
      } catch {
        /* storage blocked: this meeting only */
      }
    });
    return h("label", { class: "check" }, input, " ", t(`s.theme.${value}`));
  };
  const language = h("select", { dataset: { setting: "language" } }, Object.entries(LANGUAGES).map(([code, name]) => new Option(name, code, false, code === lang)));
  const hint = h("p", { class: "chat-status", role: "status", dataset: { role: "language-hint" } });
  language.addEventListener("change", async () => {
    await setLanguage(language.value);
    hint.textContent = t("s.languageNext");
  });
  const background = backgroundPicker(t, room?.background ?? null, async (spec) => {
    try {
      await room.setBackground(spec);
      saveBackground(spec);
      el._background = spec;
    } catch (err) {
      el._toast(t("bg.failed", { detail: err.message }));
    }
  });
  background.querySelector("select").dataset.setting = "background";
  const hide = h("input", { type: "checkbox", checked: Boolean(el._hideSelf), dataset: { setting: "hide-self" } });
  hide.addEventListener("change", () => el._setHideSelf(hide.checked));
  body.replaceChildren(
    h("h3", { text: t("s.devices") }),
    deviceSelect("videoinput", "video", t("prejoin.camera")),
    deviceSelect("audioinput", "audio", t("prejoin.microphone")),
    background,
    h("fieldset", { class: "choices" }, h("legend", { text: t("s.theme") }), themeChoice("dark"), themeChoice("light")),
    h("label", {}, t("s.language"), " ", language),
    hint,
    h("label", { class: "check" }, hide, " ", t("m.hideSelf")),
  );
}
