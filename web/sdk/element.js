// <meetmesh-room>: the whole meeting UI in one embeddable element (open shadow DOM).
//
//   <meetmesh-room number="12345678901" api="https://meet.example.com" name="Ada"></meetmesh-room>
//
// Attributes: number (required), api (default: this page's origin), name, passcode, invite-key (the `k` of an
// invite link: no passcode asked), token (an access token;
// default: localStorage "meetmesh.accessToken"), autojoin (skip the pre-join page), simulcast="off" (send the
// camera in one size only; default: three). Property `room` is the
// Room (SDK) once joining starts; DOM events "meetmesh:<event>" mirror the Room's.
//
// Pages: pre-join → waiting room → meeting (tiles, toolbar, participants and chat panels) → left. Everything
// a person can do is a button with a name (keyboard shortcuts: Alt+A/V/S/Y/H/U); what happens to them is said
// in a toast (a polite live region); user text is only ever set as text.

import { errorText, t } from "../i18n/index.js";
import { BackgroundEffect, backgroundPicker, saveBackground, savedBackground } from "./background.js";
import { chime, h, icon, initials } from "./dom.js";
import { GraphQLClient } from "./graphql.js";
import { Room } from "./room.js";
import { STYLE } from "./style.js";

const TEMPLATE = `
<style>${STYLE}</style>
<section class="prejoin" data-page="prejoin">
  <h1 data-role="title">${t("prejoin.joinTitle")}</h1>
  <video class="preview" data-role="preview" autoplay muted playsinline aria-label="${t("prejoin.camera")}"></video>
  <label>${t("prejoin.camera")} <select data-role="camera"></select></label>
  <label>${t("prejoin.microphone")} <select data-role="microphone"></select></label>
  <label>${t("prejoin.micLevel")} <meter class="level" data-role="mic-level" min="0" max="1" low="0.05" high="0.8" optimum="0.3" value="0"></meter></label>
  <label>${t("prejoin.name")} <input data-role="name" autocomplete="name"></label>
  <label data-role="passcode-row" hidden>${t("prejoin.passcode")} <input data-role="passcode" type="password" autocomplete="off"></label>
  <button class="primary" data-action="join">${t("prejoin.join")}</button>
  <p class="error" data-role="error" role="alert"></p>
</section>
<section class="waiting" data-page="waiting" hidden role="status" aria-live="polite">
  <h2>${t("waiting.title")}</h2>
  <p data-role="waiting-title"></p>
</section>
<section class="meeting-page" data-page="meeting" hidden>
  <div class="topline">
    <h1 class="meeting-title" data-role="meeting-title"></h1>
    <p class="recording-banner" data-role="recording-banner" role="status" aria-live="polite" hidden></p>
    <p class="local-recording" data-role="local-recording" role="status" hidden>${t("m.localRecordingOn")}</p>
    <p class="lock-badge" data-role="lock-badge" hidden></p>
    <p class="lock-badge" data-role="breakout-countdown" role="timer" hidden></p>
    <p class="notice" data-role="notice" hidden></p>
  </div>
  <div class="body">
    <div class="stage" data-role="stage">
      <div class="screens" data-role="screens"></div>
      <div class="grid" data-role="grid"></div>
      <nav class="pager" data-role="pager" aria-label="${t("m.pages")}" hidden>
        <button type="button" class="icon-button" data-action="page-prev" aria-label="${t("m.pagePrev")}"></button>
        <span data-role="page-status" aria-live="polite"></span>
        <button type="button" class="icon-button" data-action="page-next" aria-label="${t("m.pageNext")}"></button>
      </nav>
      <div class="captions" data-role="captions" aria-live="polite"></div>
    </div>
    <aside class="panel" data-panel="people" hidden aria-labelledby="people-title">
      <header><h2 id="people-title" data-role="people-title">${t("m.participants")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div data-role="waiting-section" hidden>
        <h3 data-role="waiting-heading"></h3>
        <ul data-role="waiting-list"></ul>
        <button data-action="admit-all">${t("p.admitAll")}</button>
      </div>
      <h3>${t("p.inMeeting")}</h3>
      <input class="search" type="search" data-role="people-search" aria-label="${t("p.search")}" placeholder="${t("p.search")}">
      <ul data-role="people"></ul>
      <p data-role="people-empty" hidden>${t("p.noMatch")}</p>
    </aside>
    <aside class="panel" data-panel="chat" hidden aria-labelledby="chat-title">
      <header><h2 id="chat-title">${t("c.title")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <form class="chat-search" role="search" data-role="chat-search-form"><input type="search" data-role="chat-search" aria-label="${t("c.search")}" placeholder="${t("c.search")}" autocomplete="off"></form>
      <div class="chat-results" data-role="chat-results" hidden></div>
      <div class="chat-log" data-role="chat-log" role="log" aria-live="polite" aria-label="${t("c.title")}" tabindex="0"></div>
      <p class="chat-status" data-role="chat-status" role="status"></p>
      <form class="chat-form" data-role="chat-form">
        <label>${t("c.to")} <select data-role="chat-to"></select></label>
        <div class="composer-context" data-role="composer-context" hidden></div>
        <div class="row">
          <button type="button" class="icon-button" data-action="attach" aria-label="${t("c.attach")}" title="${t("c.attach")}"></button>
          <input type="file" data-role="chat-file" hidden>
          <input data-role="chat-input" maxlength="4096" aria-label="${t("c.message")}" placeholder="${t("c.message")}" autocomplete="off">
          <button type="submit" class="icon-button primary" data-action="send" aria-label="${t("c.send")}"></button>
        </div>
      </form>
    </aside>
    <aside class="panel" data-panel="polls" hidden aria-labelledby="polls-title">
      <header><h2 id="polls-title">${t("poll.title")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <form class="poll-form" data-role="poll-form" hidden>
        <h3>${t("poll.new")}</h3>
        <label>${t("poll.question")} <input data-role="poll-question" maxlength="500" required></label>
        <label>${t("poll.options")} <textarea data-role="poll-options" rows="3" required></textarea></label>
        <label class="check"><input type="checkbox" data-role="poll-multiple"> ${t("poll.multiple")}</label>
        <label class="check"><input type="checkbox" data-role="poll-anonymous"> ${t("poll.anonymous")}</label>
        <button type="submit" class="primary" data-action="launch-new-poll">${t("poll.launch")}</button>
      </form>
      <p class="chat-status" data-role="poll-status" role="status"></p>
      <div data-role="poll-list"></div>
    </aside>
    <aside class="panel" data-panel="notes" hidden aria-labelledby="notes-title">
      <header><h2 id="notes-title">${t("collab.notes")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div class="collab-body" data-role="notes-body"></div>
    </aside>
    <aside class="panel board-panel" data-panel="whiteboard" hidden aria-labelledby="board-title">
      <header><h2 id="board-title">${t("collab.board")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div class="collab-body" data-role="board-body"></div>
    </aside>
    <aside class="panel" data-panel="breakouts" hidden aria-labelledby="breakouts-title">
      <header><h2 id="breakouts-title">${t("bo.title")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div data-role="breakout-body"></div>
    </aside>
    <aside class="panel" data-panel="settings" hidden aria-labelledby="settings-title">
      <header><h2 id="settings-title">${t("s.title")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div data-role="settings-body"></div>
    </aside>
    <aside class="panel" data-panel="transcript" hidden aria-labelledby="transcript-title">
      <header><h2 id="transcript-title">${t("m.transcript")}</h2>
        <button class="icon-button" data-action="close-panel" aria-label="${t("m.close")}"></button></header>
      <div class="transcript" data-role="transcript" tabindex="0" aria-label="${t("m.transcript")}"></div>
    </aside>
  </div>
  <nav class="toolbar" data-role="toolbar" aria-label="${t("m.controls")}">
    <div class="bar" data-role="bar"></div>
    <button class="tb" data-action="more" aria-haspopup="true" aria-expanded="false"></button>
    <button class="tb leave" data-action="leave"></button>
    <div class="menu more-menu" data-role="more-menu" hidden>
      <div data-role="overflow"></div>
      <button class="tb" type="button" data-action="transcript"></button>
      <button class="tb" type="button" data-action="speaker-view" aria-pressed="false"></button>
      <button class="tb" type="button" data-action="hide-self" aria-pressed="false"></button>
      <button class="tb" type="button" data-action="settings"></button>
      <div data-role="host-menu"></div>
    </div>
    <div class="menu popover" data-role="device-menu" hidden></div>
    <div class="menu popover emoji-row" data-role="reaction-menu" role="group" aria-label="${t("r.choose")}" hidden></div>
  </nav>
  <div class="toasts" data-role="toasts" role="status" aria-live="polite"></div>
  <dialog data-role="dialog" aria-labelledby="dialog-title">
    <form method="dialog">
      <h2 id="dialog-title" data-role="dialog-title"></h2>
      <p data-role="dialog-body"></p>
      <label data-role="dialog-input-row" hidden><span data-role="dialog-input-label"></span><input type="text" data-role="dialog-input" maxlength="100"></label>
      <label data-role="dialog-select-row" hidden><span data-role="dialog-select-label"></span><select data-role="dialog-select"></select></label>
      <label data-role="dialog-check-row" hidden><input type="checkbox" data-role="dialog-check"><span data-role="dialog-check-label"></span></label>
      <div class="actions" data-role="dialog-actions"></div>
    </form>
  </dialog>
</section>
<section data-page="left" hidden><h2 data-role="left-text">${t("m.left")}</h2>
  <button data-action="rejoin" data-role="rejoin">${t("m.rejoin")}</button>
  <p><a href="/" data-role="home-link">${t("m.backHome")}</a></p></section>
`;

// Toolbar buttons, in the order shown; `overflow` is the order they move into More when space runs out
// (highest first). Keyboard shortcuts as Zoom's (Alt+letter).
const BUTTONS = [
  { action: "mic", icon: "mic", keys: "Alt+A", overflow: 99 },
  { action: "mic-devices", icon: "chevron-up", caret: true, overflow: 40 },
  { action: "camera", icon: "video", keys: "Alt+V", overflow: 98 },
  { action: "share", icon: "monitor-up", keys: "Alt+S", overflow: 60 },
  { action: "people", icon: "users", keys: "Alt+U", overflow: 80 },
  { action: "chat", icon: "message-square", keys: "Alt+H", overflow: 90 },
  { action: "reactions", icon: "smile-plus", overflow: 50 },
  { action: "hand", icon: "hand", keys: "Alt+Y", overflow: 55 },
  { action: "cloud-record", icon: "disc", overflow: 30 },
  { action: "local-record", icon: "circle", overflow: 20 },
  { action: "captions", icon: "captions", overflow: 25 },
  { action: "polls", icon: "vote", overflow: 15 },
  { action: "notes", icon: "notebook-pen", overflow: 14 },
  { action: "whiteboard", icon: "presentation", overflow: 13 },
  { action: "breakouts", icon: "group", overflow: 12 },
  { action: "invite", icon: "user-plus", overflow: 10 },
];
const HOST_MENU = [
  { action: "lock", icon: "lock", label: "m.lock", state: (r) => r.meetingState.locked },
  { action: "waiting-room", icon: "door-open", label: "m.waitingRoom", state: (r) => r.meetingState.waitingRoom },
  { action: "self-unmute", icon: "mic-vocal", label: "m.allowSelfUnmute", state: (r) => r.meetingState.allowSelfUnmute },
  { action: "mute-all", icon: "mic-off", label: "m.muteAll" },
  { action: "lower-all-hands", icon: "hand", label: "m.lowerAllHands" },
];
const SHORTCUTS = { a: "mic", v: "camera", s: "share", y: "hand", h: "chat", u: "people" };

export class MeetMeshRoomElement extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" }).innerHTML = TEMPLATE;
    this.room = null;
    this._preview = null; // MediaStream
    this._background = savedBackground(); // the virtual background chosen last time (localStorage)
    this._previewEffect = null; // BackgroundEffect on the pre-join preview
    this._tiles = new Map(); // participantId -> tile element
    this._pinned = null; // participant id pinned on this screen only
    this._unread = 0;
    this._openPersonMenu = null;
    this._onKey = (ev) => this._shortcut(ev);
  }

  $(selector) {
    return this.shadowRoot.querySelector(selector);
  }

  get apiUrl() {
    return this.getAttribute("api") || location.origin;
  }

  _icon(name) {
    return icon(name, this.getAttribute("api") || "");
  }

  connectedCallback() {
    const s = this.shadowRoot;
    this.$('[data-role="name"]').value = this.getAttribute("name") || localStorage.getItem("meetmesh.displayName") || "";
    this.$('[data-role="passcode"]').value = this.getAttribute("passcode") || "";
    this._token = this.getAttribute("token") || localStorage.getItem("meetmesh.accessToken");
    // The theme picked in Settings (dark unless chosen otherwise); an embedder's theme attribute wins.
    const theme = localStorage.getItem("meetmesh.meetingTheme");
    if (theme && !this.hasAttribute("theme")) this.setAttribute("theme", theme);
    this._buildToolbar();
    s.addEventListener("click", (ev) => this._onClick(ev));
    this.$('[data-role="chat-form"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._withChat((c) => c.send());
    });
    this.$('[data-role="chat-search-form"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._withChat((c) => c.search(this.$('[data-role="chat-search"]').value));
    });
    this.$('[data-role="chat-file"]').addEventListener("change", (ev) => {
      const file = ev.target.files[0];
      ev.target.value = "";
      if (file) this._withChat((c) => c.sendFile(file));
    });
    const chatPanel = this.$('[data-panel="chat"]');
    chatPanel.addEventListener("dragover", (ev) => {
      if (![...(ev.dataTransfer?.types ?? [])].includes("Files")) return;
      ev.preventDefault();
      chatPanel.classList.add("dragging");
    });
    chatPanel.addEventListener("dragleave", () => chatPanel.classList.remove("dragging"));
    chatPanel.addEventListener("drop", (ev) => {
      ev.preventDefault();
      chatPanel.classList.remove("dragging");
      const file = ev.dataTransfer?.files?.[0];
      if (file) this._withChat((c) => c.sendFile(file));
    });
    this.$('[data-role="people-search"]').addEventListener("input", () => this._renderPeople());
    this.$('[data-role="poll-form"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._launchNewPoll();
    });
    this._countdownTimer = setInterval(() => this._tickCountdown(), 1000);
    for (const kind of ["camera", "microphone"]) this.$(`[data-role="${kind}"]`).addEventListener("change", () => this._startPreview());
    if (!this.$('[data-role="background"]')) {
      const picker = backgroundPicker(t, this._background, async (spec) => {
        this._background = spec;
        saveBackground(spec);
        await this._previewBackground();
      });
      this.$('[data-role="mic-level"]').closest("label").after(picker);
    }
    // Escape closes the open menu (and gives focus back to what opened it).
    s.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        this._closeMenus(true);
        if (this._chatPromise) this._withChat((c) => c.closePicker());
      }
    });
    this._resizeObserver = new ResizeObserver(() => this._fitToolbar());
    this._resizeObserver.observe(this.$('[data-role="toolbar"]'));
    window.addEventListener("keydown", this._onKey);
    this._loadLobby();
    if (this.hasAttribute("autojoin")) this.join();
    else this._startPreview();
  }

  disconnectedCallback() {
    window.removeEventListener("keydown", this._onKey);
    clearInterval(this._countdownTimer);
    clearInterval(this._qualityTimer);
    this._resizeObserver?.disconnect();
    this._stopMeter();
    this.room?.leave();
    this._preview?.getTracks().forEach((t) => t.stop());
  }

  // ---- toolbar ---------------------------------------------------------------------------------------------

  _buildToolbar() {
    const bar = this.$('[data-role="bar"]');
    for (const b of BUTTONS) {
      const button = h("button", { class: b.caret ? "tb caret" : "tb", type: "button", dataset: { action: b.action, overflow: String(b.overflow) } }, this._icon(b.icon));
      button.append(h("span", { class: "lbl" })); // the caret's shows only in More (its name is aria-label)
      if (b.keys) button.setAttribute("aria-keyshortcuts", b.keys);
      if (b.action === "people") button.append(h("span", { class: "badge", dataset: { role: "people-count" } }), h("span", { class: "badge alert", dataset: { role: "waiting-count" } }));
      if (b.action === "chat") button.append(h("span", { class: "badge", dataset: { role: "chat-unread" } }));
      if (b.action === "polls") button.append(h("span", { class: "badge", dataset: { role: "polls-new" } }));
      bar.append(button);
    }
    this.$('[data-action="more"]').append(this._icon("ellipsis"), h("span", { class: "lbl", text: t("m.more") }));
    this.$('[data-action="leave"]').append(this._icon("phone-off"), h("span", { class: "lbl", text: t("m.leave") }));
    this.$('[data-action="transcript"]').append(this._icon("scroll-text"), h("span", { class: "lbl", text: t("m.transcript") }));
    this.$('[data-action="speaker-view"]').append(this._icon("presentation"), h("span", { class: "lbl", text: t("m.speakerView") }));
    this.$('[data-action="hide-self"]').append(this._icon("eye-off"), h("span", { class: "lbl", text: t("m.hideSelf") }));
    this.$('[data-action="settings"]').append(this._icon("settings"), h("span", { class: "lbl", text: t("s.title") }));
    this.$('[data-action="attach"]').append(this._icon("paperclip"));
    this.$('[data-action="send"]').append(this._icon("send"));
    this.$('[data-action="page-prev"]').append(this._icon("chevron-left"));
    this.$('[data-action="page-next"]').append(this._icon("chevron-right"));
    for (const close of this.shadowRoot.querySelectorAll('[data-action="close-panel"]')) close.append(this._icon("x"));
    this._syncButtons();
  }

  _label(action, text, pressed = null) {
    const button = this.$(`[data-action="${action}"]`);
    if (!button) return;
    const lbl = button.querySelector(".lbl");
    if (lbl) lbl.textContent = text;
    if (!lbl || button.classList.contains("caret")) button.setAttribute("aria-label", text);
    const keys = button.getAttribute("aria-keyshortcuts");
    button.title = keys ? `${text} (${keys})` : text;
    if (pressed !== null) button.setAttribute("aria-pressed", String(pressed));
  }

  _setIcon(action, name) {
    const old = this.$(`[data-action="${action}"] .icon`);
    if (old) old.replaceWith(this._icon(name));
  }

  _syncButtons() {
    const room = this.room;
    const mic = room ? room.micEnabled : true;
    const cam = room ? room.cameraEnabled : true;
    this._label("mic", mic ? t("m.mute") : t("m.unmute"), !mic);
    this._setIcon("mic", mic ? "mic" : "mic-off");
    this.$('[data-action="mic"]').classList.toggle("off", !mic);
    this._label("mic-devices", t("m.micDevices"));
    this.$('[data-action="mic-devices"]').setAttribute("aria-haspopup", "true");
    this._label("camera", cam ? t("m.stopVideo") : t("m.startVideo"), !cam);
    this._setIcon("camera", cam ? "video" : "video-off");
    this.$('[data-action="camera"]').classList.toggle("off", !cam);
    const sharing = Boolean(room?.sharing);
    this._label("share", sharing ? t("m.stopShare") : t("m.share"), sharing);
    this._label("people", t("m.participants"));
    this._label("chat", t("m.chat"));
    this._label("reactions", t("m.reactions"));
    this.$('[data-action="reactions"]').setAttribute("aria-haspopup", "true");
    const hand = Boolean(room?.handRaised);
    this._label("hand", hand ? t("m.lowerHand") : t("m.raiseHand"), hand);
    const cloud = room?.cloudRecording === "recording" || room?.cloudRecording === "paused";
    this._label("cloud-record", cloud ? t("m.cloudStop") : t("m.cloudRecord"), cloud);
    this._setIcon("cloud-record", cloud ? "circle-stop" : "disc");
    const local = Boolean(room?.localRecording);
    this._label("local-record", local ? t("m.localStop") : t("m.localRecord"), local);
    this._label("captions", t("m.captions"), !this.$('[data-role="captions"]').hidden);
    this._label("invite", t("m.invite"));
    this._label("polls", t("poll.title"));
    this._label("notes", t("collab.notes"));
    this._label("whiteboard", t("collab.board"));
    this._label("breakouts", t("bo.title"));
    if (room) {
      this.$('[data-action="cloud-record"]').hidden = !room.isHost;
      this.$('[data-action="local-record"]').hidden = !room.canRecordLocally && !room.localRecording;
      const open = room.breakouts && room.breakouts.status !== "CLOSED";
      this.$('[data-action="breakouts"]').hidden = !room.isHost && !open;
      this.$('[data-role="poll-form"]').hidden = !room.isHost;
      this._renderHostMenu();
    }
    this._fitToolbar();
  }

  // Put every button back in the bar, then move the least needed into More until the bar fits: nothing is
  // ever off-screen, at 360 px or in a narrow embed.
  _fitToolbar() {
    const bar = this.$('[data-role="bar"]');
    const overflow = this.$('[data-role="overflow"]');
    if (!bar) return;
    const focused = this.shadowRoot.activeElement; // moving a button drops its focus: given back below
    const all = [...bar.children, ...overflow.querySelectorAll(".tb")];
    all.sort((a, b) => BUTTONS.findIndex((x) => x.action === a.dataset.action) - BUTTONS.findIndex((x) => x.action === b.dataset.action));
    bar.replaceChildren(...all);
    overflow.replaceChildren();
    if (!bar.clientWidth) return focused?.focus(); // not laid out (page hidden): measured when shown
    const moved = [];
    const byOverflow = [...all].sort((a, b) => Number(a.dataset.overflow) - Number(b.dataset.overflow));
    while (bar.scrollWidth > bar.clientWidth + 1 && byOverflow.length) {
      const next = byOverflow.shift();
      if (next.hidden) continue;
      moved.push(next);
      next.remove();
    }
    moved.sort((a, b) => Number(b.dataset.overflow) - Number(a.dataset.overflow));
    overflow.replaceChildren(...moved);
    if (moved.length) overflow.append(h("hr"));
    if (focused && focused !== this.shadowRoot.activeElement && focused.isConnected) focused.focus();
  }

  _renderHostMenu() {
    const room = this.room;
    const menu = this.$('[data-role="host-menu"]');
    if (!room?.isHost) return menu.replaceChildren();
    menu.replaceChildren(
      ...HOST_MENU.map((item) => {
        const button = h("button", { class: "tb", type: "button", dataset: { action: item.action } }, this._icon(item.icon), h("span", { class: "lbl", text: t(item.label) }));
        if (item.state) button.setAttribute("aria-pressed", String(Boolean(item.state(room))));
        return button;
      }),
    );
  }

  _toggleMenu(role, anchor) {
    const menu = this.$(`[data-role="${role}"]`);
    const open = menu.hidden;
    this._closeMenus();
    menu.hidden = !open;
    anchor?.setAttribute("aria-expanded", String(open));
    if (open) {
      this._menuAnchor = anchor;
      if (role !== "more-menu" && anchor) {
        // Under the button that opened it (the toolbar is the containing block).
        const toolbar = this.$('[data-role="toolbar"]').getBoundingClientRect();
        const at = anchor.getBoundingClientRect();
        const width = Math.min(menu.offsetWidth || 240, toolbar.width - 16);
        const left = Math.max(8, Math.min(at.left - toolbar.left + at.width / 2 - width / 2, toolbar.width - width - 8));
        Object.assign(menu.style, { left: `${left}px`, transform: "none" });
      }
      menu.querySelector("button")?.focus();
    }
  }

  _closeMenus(restoreFocus = false) {
    for (const menu of this.shadowRoot.querySelectorAll('.toolbar .menu')) menu.hidden = true;
    this.$('[data-action="more"]').setAttribute("aria-expanded", "false");
    if (this._openPersonMenu) {
      this._openPersonMenu = null;
      this._renderPeople();
    }
    if (restoreFocus) this._menuAnchor?.focus();
  }

  _shortcut(ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || this.$('[data-page="meeting"]').hidden) return;
    // By the letter typed; by the key's position only outside text fields (on a Mac, Option+A types "å").
    const typing = ev.composedPath()[0]?.matches?.("input, textarea, select, [contenteditable]");
    const letter = /^[a-z]$/i.test(ev.key) ? ev.key.toLowerCase() : typing ? null : ev.code?.replace(/^Key/, "").toLowerCase();
    const action = SHORTCUTS[letter];
    if (!action) return;
    ev.preventDefault();
    this.$(`[data-action="${action}"]`)?.click();
  }

  // ---- pre-join --------------------------------------------------------------------------------------------

  async _loadLobby() {
    const number = this.getAttribute("number");
    try {
      const lobby = (await new GraphQLClient(this.apiUrl).request(`query($n: String!) { meetingLobby(number: $n) { title hasPasscode } }`, { n: number })).meetingLobby;
      this.$('[data-role="title"]').textContent = lobby.title;
      this._title = lobby.title;
      this.$('[data-role="waiting-title"]').textContent = t("waiting.meeting", { title: lobby.title });
      // An invite link's key stands in for the passcode.
      this.$('[data-role="passcode-row"]').hidden = !lobby.hasPasscode || this.hasAttribute("invite-key");
    } catch (err) {
      this._error(err);
    }
  }

  async _startPreview() {
    const camera = this.$('[data-role="camera"]').value;
    const microphone = this.$('[data-role="microphone"]').value;
    this._preview?.getTracks().forEach((t) => t.stop());
    try {
      this._preview = await navigator.mediaDevices.getUserMedia({
        // 720p when the camera can (three simulcast layers: 180p, 360p, 720p); whatever it has otherwise.
        video: { ...(camera ? { deviceId: { exact: camera } } : {}), width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: microphone ? { deviceId: { exact: microphone } } : true,
      });
    } catch (err) {
      this._preview = null;
      this._error(new Error(t("prejoin.devicesUnavailable", { detail: err.message })));
      return null;
    }
    await this._previewBackground();
    this._meter(this._preview);
    await this._listDevices();
    return this._preview;
  }

  // The pre-join preview shows what will be sent: the camera through the chosen background.
  async _previewBackground() {
    const video = this.$('[data-role="preview"]');
    const camera = this._preview?.getVideoTracks()[0];
    try {
      if (this._background && camera) {
        if (this._previewEffect?.source === camera) await this._previewEffect.setBackground(this._background);
        else {
          this._previewEffect?.stop();
          this._previewEffect = await BackgroundEffect.create(camera, this._background);
        }
      } else {
        this._previewEffect?.stop();
        this._previewEffect = null;
      }
    } catch (err) {
      this._previewEffect = null;
      this._error(new Error(t("bg.failed", { detail: err.message })));
    }
    video.srcObject = this._previewEffect ? new MediaStream([this._previewEffect.track]) : this._preview;
  }

  async _listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [kind, role] of [["videoinput", "camera"], ["audioinput", "microphone"]]) {
      const select = this.$(`[data-role="${role}"]`);
      const current = this._preview?.getTracks().find((t) => t.kind === (role === "camera" ? "video" : "audio"))?.getSettings().deviceId;
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d, i) => new Option(d.label || `${role} ${i + 1}`, d.deviceId, false, d.deviceId === current)));
    }
  }

  /** Join with what the pre-join page says. */
  async join() {
    const name = this.$('[data-role="name"]').value.trim() || this.getAttribute("name") || "";
    if (!name && !this._token) {
      // Guests must say who they are (signed-in people have their account's name).
      this._show("prejoin");
      this._error(new Error(t("prejoin.nameRequired")));
      this.$('[data-role="name"]').focus();
      return null;
    }
    if (name) localStorage.setItem("meetmesh.displayName", name);
    const stream = this._preview || (await this._startPreview());
    // The room runs its own effect on the camera (the segmentation model is loaded once per page).
    this._previewEffect?.stop();
    this._previewEffect = null;
    const room = (this.room = new Room({
      apiUrl: this.apiUrl,
      number: this.getAttribute("number"),
      displayName: name || null,
      passcode: this.$('[data-role="passcode"]').value || null,
      inviteKey: this.getAttribute("invite-key") || null,
      token: this._token,
      stream,
      simulcast: this.getAttribute("simulcast") !== "off",
      background: this._background,
    }));
    this._bind(room);
    try {
      await room.join();
    } catch (err) {
      if (room.state !== "ended") {
        this._show("prejoin");
        this._error(err);
      }
    }
    return room;
  }

  // ---- room events -----------------------------------------------------------------------------------------

  _bind(room) {
    const relay = (type, fn) =>
      room.addEventListener(type, (ev) => {
        if (room !== this.room) return; // an earlier room (before a rejoin)
        fn?.(ev.detail);
        this.dispatchEvent(new CustomEvent(`meetmesh:${type}`, { detail: ev.detail, bubbles: true, composed: true }));
      });
    relay("waiting", () => this._show("waiting"));
    relay("background", () => this._showSelf());
    relay("admitted");
    relay("connected", () => {
      this._show("meeting");
      this.$('[data-role="meeting-title"]').textContent = this._title ?? "";
      this._showSelf();
      this._syncButtons();
      this._syncMeetingState();
      this._renderPeople();
      this._renderChatTo();
      this._loadChatHistory();
      clearInterval(this._qualityTimer);
      this._qualityTimer = setInterval(() => this._measureQuality().catch((err) => console.warn("meetmesh: quality", err)), 2000);
    });
    relay("participants", (list) => {
      list.forEach((p) => p.id !== room.me.id && this._tile(p.id, p.displayName));
      this._refreshTiles();
      this._renderPeople();
    });
    relay("participantjoined", (p) => {
      if (p.id !== room.me.id) this._tile(p.id, p.displayName);
      this._renderChatTo();
    });
    relay("participantupdated", (p) => {
      const before = this._handsUp?.has(p.id);
      if (p.handRaisedAt && !before && p.id !== room.me.id && room.isHost) this._toast(t("t.hand", { name: p.displayName }));
      if (p.id === room.me.id) this._syncButtons();
      const tile = this._tiles.get(p.id);
      if (tile && tile.dataset.name !== p.displayName) this._tile(p.id, p.displayName, p.id === room.me.id); // renamed
      this._refreshTiles();
      this._renderPeople();
      this._renderChatTo();
    });
    relay("participantwaiting", (p) => {
      if (room.isHost) {
        this._toast(t("t.waiting", { name: p.displayName }));
        chime();
      }
      this._renderPeople();
    });
    relay("participantleft", (p) => {
      this._dropTile(p.id);
      this._renderChatTo();
    });
    relay("track", (tr) => this._attach(tr));
    relay("trackended", (tr) => this._detach(tr));
    relay("activespeaker", ({ participantId }) => {
      this._activeSpeaker = participantId;
      this._tiles.forEach((el, id) => el.classList.toggle("speaking", id === participantId));
      if (this._speakerView) this._refreshTiles();
    });
    relay("caption", ({ speakerName, text, language }) => {
      const box = this.$('[data-role="captions"]');
      const line = document.createElement("p");
      line.textContent = `${speakerName}: ${text}`; // text, never HTML
      if (language) line.lang = language; // screen readers and fonts follow the caption's own language
      box.append(line);
      while (box.children.length > 2) box.firstElementChild.remove(); // the last two lines, as TV captions do
      clearTimeout(this._captionTimer);
      this._captionTimer = setTimeout(() => box.replaceChildren(), 8000);
      const transcript = this.$('[data-role="transcript"]');
      transcript.append(h("p", {}, h("strong", { text: `${speakerName}: ` }), text));
      transcript.scrollTop = transcript.scrollHeight;
    });
    relay("chat", (m) => this._withChat((c) => c.add(m, true)));
    relay("chatupdated", (m) => this._withChat((c) => c.update(m)));
    relay("chatreaction", ({ messageId, reactions }) => this._withChat((c) => c.reactions(messageId, reactions)));
    relay("mutedbyhost", () => {
      this._syncButtons();
      this._toast(t("t.mutedByHost"));
    });
    relay("unmuterequested", () => this._toast(t("t.askedToUnmute")));
    relay("videostoppedbyhost", () => {
      this._syncButtons();
      this._refreshTiles();
      this._toast(t("t.videoStopped"));
    });
    relay("rolechanged", ({ role }) => {
      this._toast(t(role === "COHOST" ? "t.cohost" : role === "HOST" ? "t.host" : "t.noLongerCohost"));
      this._syncButtons();
      this._renderPeople();
    });
    relay("renamed", ({ displayName }) => {
      this._toast(t("t.renamed", { name: displayName }));
      this._tile(room.me.id, displayName, true);
    });
    relay("handlowered", () => {
      this._toast(t("t.handLowered"));
      this._syncButtons();
      this._refreshTiles();
    });
    relay("moved", ({ roomId }) => {
      const name = room.breakouts?.rooms.find((r) => r.id === roomId)?.name ?? roomId;
      this._toast(roomId ? t("t.moved", { room: name }) : t("t.movedMain"));
      if (!this.$('[data-panel="breakouts"]').hidden) this._renderBreakouts();
      // The whiteboard follows the person: their breakout room's board, the main one when back.
      if (this._collab?.whiteboard && !this.$('[data-panel="whiteboard"]').hidden) this._openCollab("whiteboard");
    });
    relay("reaction", ({ participantId, emoji }) => this._float(participantId, emoji));
    relay("meetingstate", (state) => {
      const before = state.before;
      if (state.locked !== before.locked) this._toast(t(state.locked ? "t.locked" : "t.unlocked"));
      if (state.waitingRoom !== before.waitingRoom) this._toast(t(state.waitingRoom ? "t.waitingOn" : "t.waitingOff"));
      if (state.allowSelfUnmute !== before.allowSelfUnmute && !room.isHost) this._toast(t(state.allowSelfUnmute ? "t.selfUnmuteOn" : "t.selfUnmuteOff"));
      if (state.spotlightParticipantId && state.spotlightParticipantId !== before.spotlightParticipantId) {
        const who = room.participants.get(state.spotlightParticipantId);
        if (who) this._toast(t("t.spotlight", { name: who.displayName }));
      }
      this._syncMeetingState();
    });
    relay("poll", ({ type, poll }) => {
      if (type === "POLL_LAUNCHED" && !room.isHost) {
        this._toast(t("poll.launched", { question: poll.question }));
        if (this.$('[data-panel="polls"]').hidden) this.$('[data-role="polls-new"]').textContent = "1";
      }
      if (type === "POLL_RESULTS_SHARED" && !room.isHost) this._toast(t("poll.shared", { question: poll.question }));
      if (!this.$('[data-panel="polls"]').hidden) this._renderPolls();
    });
    relay("breakouts", ({ type }) => {
      if (type === "BREAKOUT_ROOMS_CLOSING") this._toast(t("bo.closing"));
      if (type === "BREAKOUT_ROOMS_CLOSED") this._toast(t("bo.closed"));
      this._syncButtons();
      this._tickCountdown();
      if (!this.$('[data-panel="breakouts"]').hidden) this._renderBreakouts();
    });
    relay("breakoutbroadcast", ({ message, senderName }) => this._toast(t("bo.broadcastFrom", { name: senderName ?? "", message })));
    relay("breakouthelp", ({ participant, roomName }) => room.isHost && this._toast(t("bo.helpFrom", { name: participant.displayName, room: roomName })));
    relay("screenshare", ({ active, track }) => {
      this._syncButtons();
      // The sharer sees their own screen too, to draw on it (web/collab/annotate.js).
      if (!active) return this._dropScreen(room.me.id);
      const video = h("video", { autoplay: true, playsInline: true, muted: true, srcObject: new MediaStream([track]) });
      Object.assign(video.dataset, { participantId: room.me.id, source: "my-screen" });
      video.setAttribute("aria-label", t("annotate.myScreen"));
      this._showScreen(room.me.id, video);
    });
    relay("firstframe");
    relay("recordingstate", (state) => {
      this._showRecordingState(state);
      this._renderPeople();
      this._syncButtons();
    });
    relay("cloudrecording", ({ type }) => {
      const key = { RECORDING_STARTED: "t.recordingStarted", RECORDING_STOPPED: "t.recordingStopped", RECORDING_PAUSED: "t.recordingPaused", RECORDING_RESUMED: "t.recordingResumed" }[type];
      if (key) this._toast(t(key));
    });
    relay("permissions", () => this._syncButtons());
    relay("localrecording", ({ active, blob, filename }) => {
      this.$('[data-role="local-recording"]').hidden = !active;
      this._syncButtons();
      // Stopped by the button or by leaving: either way the file is saved (the module is loaded: it recorded).
      if (blob) import("./localrecording.js").then(({ saveBlob }) => saveBlob(blob, filename));
    });
    relay("reconnecting", () => Object.assign(this.$('[data-role="notice"]'), { hidden: false, textContent: t("m.reconnecting") }));
    relay("reconnected", () => (this.$('[data-role="notice"]').hidden = true));
    relay("left", () => this._finish(t("m.left")));
    relay("ended", ({ reason }) => {
      this._finish(t(reason === "removed" ? "m.removed" : reason === "denied" ? "m.denied" : reason === "connection lost" ? "m.connectionLost" : "m.ended"));
      // Only a lost connection can be rejoined; removed, denied and ended are final (the server refuses too).
      this.$('[data-role="rejoin"]').hidden = reason !== "connection lost";
    });
  }

  _syncMeetingState() {
    const room = this.room;
    if (!room) return;
    const badge = this.$('[data-role="lock-badge"]');
    badge.hidden = !room.meetingState.locked;
    badge.replaceChildren(this._icon("lock"), t("m.locked"));
    this._renderHostMenu();
    this._refreshTiles();
  }

  // Everyone sees who records: the meeting (cloud) and anyone recording on their own device.
  _showRecordingState({ cloud, local }) {
    const parts = [];
    if (cloud === "recording") parts.push(t("m.recordingCloud"));
    else if (cloud === "paused") parts.push(t("m.recordingPaused"));
    for (const p of local) parts.push(p.id === this.room?.me?.id ? t("m.recordingLocalYou") : t("m.recordingLocalOther", { name: p.displayName }));
    const banner = this.$('[data-role="recording-banner"]');
    banner.textContent = parts.join(" · "); // text, never HTML
    banner.hidden = parts.length === 0;
  }

  _toast(text) {
    const box = this.$('[data-role="toasts"]');
    const toast = h("div", { class: "toast", text });
    box.append(toast);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(() => toast.remove(), 6000);
  }

  // ---- tiles -----------------------------------------------------------------------------------------------

  _tile(participantId, name, self = false) {
    let tile = this._tiles.get(participantId);
    if (!tile) {
      const video = h("video", { autoplay: true, playsInline: true, muted: true });
      video.muted = true;
      tile = h(
        "div",
        { class: self ? "tile self" : "tile remote", dataset: { participantId } },
        video,
        h("div", { class: "placeholder", "aria-hidden": "true" }, h("span", { class: "initials" })),
        h("div", { class: "nameplate" }, h("span", { class: "quality", role: "img", hidden: true }), h("span", { class: "muted-icon", hidden: true }), h("span", { class: "label" })),
        h("span", { class: "hand", hidden: true, role: "img", "aria-label": t("m.handUp") }, this._icon("hand")),
        h("button", { class: "pin", type: "button", dataset: { action: "pin" }, "aria-pressed": "false" }, this._icon("pin")),
      );
      tile.querySelector(".muted-icon").append(h("span", { class: "sr-only", text: t("m.micOff") }), this._icon("mic-off"));
      this.$('[data-role="grid"]').append(tile);
      this._tiles.set(participantId, tile);
      this._paginate();
    }
    tile.querySelector(".label").textContent = self ? t("m.you", { name }) : name;
    tile.querySelector(".initials").textContent = initials(name);
    tile.dataset.name = name;
    this._refreshTile(participantId, tile);
    this._renderPeople();
    return tile;
  }

  // Muted, hand, camera off (initials, never a frozen frame), pinned or spotlit.
  _refreshTile(participantId, tile) {
    const room = this.room;
    if (!room) return;
    const self = participantId === room.me?.id;
    const p = self ? room.me : room.participants.get(participantId);
    const muted = self ? !room.micEnabled : Boolean(p?.audioMuted);
    const cameraOff = self ? !room.cameraEnabled || !room.stream?.getVideoTracks().length : p ? !p.videoOn || !tile.querySelector("video").srcObject : true;
    tile.querySelector(".muted-icon").hidden = !muted;
    tile.querySelector(".hand").hidden = !p?.handRaisedAt;
    tile.classList.toggle("camera-off", cameraOff);
    // Pinned here, else the host's spotlight, else (speaker view) whoever speaks.
    const spotlit = room.meetingState?.spotlightParticipantId;
    const featured = this._pinned ? this._pinned === participantId : spotlit ? spotlit === participantId : Boolean(this._speakerView) && this._activeSpeaker === participantId;
    tile.hidden = self && Boolean(this._hideSelf);
    tile.classList.toggle("featured", featured);
    const pin = tile.querySelector(".pin");
    const pinned = this._pinned === participantId;
    pin.setAttribute("aria-pressed", String(pinned));
    pin.setAttribute("aria-label", t(pinned ? "m.unpin" : "m.pin", { name: tile.dataset.name ?? "" }));
    pin.title = pin.getAttribute("aria-label");
  }

  _refreshTiles() {
    this._handsUp = new Set([...(this.room?.participants.values() ?? [])].filter((p) => p.handRaisedAt).map((p) => p.id));
    this._tiles.forEach((tile, id) => this._refreshTile(id, tile));
    this._paginate();
  }

  // Gallery pages: `page-size` tiles at a time (default 9, 4 on a phone), the featured one first. Tiles of
  // other pages are not displayed, so their size goes to the edge as 0 x 0 (_reportSize): it then sends
  // nothing for them until they are shown again.
  _setHideSelf(hidden) {
    this._hideSelf = hidden;
    this.$('[data-action="hide-self"]').setAttribute("aria-pressed", String(hidden));
    const box = this.$('[data-setting="hide-self"]');
    if (box) box.checked = hidden;
    this._refreshTiles();
  }

  _pageSize() {
    return Number(this.getAttribute("page-size")) || (matchMedia("(max-width: 640px)").matches ? 4 : 9);
  }

  _paginate() {
    const size = this._pageSize();
    const shown = [...this._tiles.values()].filter((tile) => !(tile.classList.contains("self") && this._hideSelf));
    shown.sort((a, b) => Number(b.classList.contains("featured")) - Number(a.classList.contains("featured")));
    const pages = Math.max(1, Math.ceil(shown.length / size));
    this._page = Math.min(Math.max(0, this._page ?? 0), pages - 1);
    const onPage = new Set(shown.slice(this._page * size, (this._page + 1) * size));
    this._tiles.forEach((tile) => tile.classList.toggle("off-page", !onPage.has(tile)));
    this.$('[data-role="pager"]').hidden = pages <= 1;
    this.$('[data-role="page-status"]').textContent = t("m.pageOf", { page: this._page + 1, pages });
    this.$('[data-action="page-prev"]').disabled = this._page === 0;
    this.$('[data-action="page-next"]').disabled = this._page >= pages - 1;
  }

  // Every 2 s while in the meeting: each tile's connection quality from the receiving stats (quality.js).
  async _measureQuality() {
    const room = this.room;
    if (room?.state !== "connected" || this.$('[data-page="meeting"]').hidden) return;
    const { QualityMeter, grade } = await import("./quality.js");
    this._qualityMeter ??= new QualityMeter();
    const [inbound, rttMs] = await Promise.all([room.stats(), room.roundTripMs()]);
    const per = this._qualityMeter.update(inbound, rttMs);
    if (rttMs !== null) per.set(room.me.id, { grade: grade({ rttMs }) }); // our own link: its round trip
    this._tiles.forEach((tile, id) => this._showQuality(tile, per.get(id)?.grade ?? null));
  }

  _showQuality(tile, quality) {
    const el = tile.querySelector(".quality");
    el.hidden = quality === null;
    if (quality === null || tile.dataset.quality === quality) return;
    tile.dataset.quality = quality;
    el.setAttribute("aria-label", t("m.quality", { grade: t(`m.quality.${quality}`) }));
    el.title = el.getAttribute("aria-label");
    el.replaceChildren(this._icon({ good: "signal-high", fair: "signal-medium", poor: "signal-low" }[quality]));
  }

  _float(participantId, emoji) {
    const tile = this._tiles.get(participantId);
    if (!tile) return;
    const el = h("span", { class: "float", "aria-hidden": "true", text: emoji });
    tile.append(el);
    setTimeout(() => el.remove(), 3000);
    const name = this.room.participants.get(participantId)?.displayName ?? "";
    if (participantId !== this.room.me.id) this._toast(t("r.from", { name, emoji }));
  }

  _dropTile(participantId) {
    this._tiles.get(participantId)?.remove();
    this._tiles.delete(participantId);
    this._paginate();
    if (this._pinned === participantId) this._pinned = null;
    this._dropScreen(participantId);
    this._renderPeople();
  }

  _attach({ participantId, source, track }) {
    const p = this.room.participants.get(participantId);
    if (source === "screen" && track.kind === "video") {
      const video = document.createElement("video");
      Object.assign(video, { autoplay: true, playsInline: true, muted: true, srcObject: new MediaStream([track]) });
      video.dataset.participantId = participantId;
      video.dataset.source = "screen";
      video.setAttribute("aria-label", t("m.screenOf", { name: p?.displayName ?? "" }));
      this._showScreen(participantId, video);
      this._watchSize(video);
      return;
    }
    const tile = this._tile(participantId, p?.displayName ?? "…");
    if (track.kind === "video") {
      const video = tile.querySelector("video");
      video.srcObject = new MediaStream([track]);
      this._watchSize(video);
      this._refreshTile(participantId, tile);
    } else {
      const audio = document.createElement("audio");
      audio.autoplay = true;
      audio.dataset.source = source;
      audio.srcObject = new MediaStream([track]);
      tile.append(audio);
    }
  }

  // A shared screen in its frame, with the annotation overlay (web/collab/annotate.js, loaded on first share):
  // everyone's marks over it, in the picture's own coordinates (docs/collaboration.md).
  _showScreen(participantId, video) {
    this._dropScreen(participantId);
    const frame = h("div", { class: "screen", dataset: { participantId } });
    frame.append(video);
    this.$('[data-role="screens"]').append(frame);
    this._annotations ??= new Map();
    const entry = { view: null, provider: null };
    this._annotations.set(participantId, entry);
    (async () => {
      // After the first picture: nothing to mark before it, and joining the screen's media comes first.
      if (video.readyState < 2) await new Promise((ok) => video.addEventListener("loadeddata", ok, { once: true }));
      if (this._annotations.get(participantId) !== entry) return;
      const [{ mountAnnotation }, { mountLive }] = await Promise.all([import("../collab/annotate.js"), import("../collab/provider.js")]);
      const provider = await this.room.openDocument(`annotate:${participantId}`);
      if (this._annotations.get(participantId) !== entry) return provider.destroy(); // gone meanwhile
      entry.provider = provider;
      entry.view = mountLive(provider, () => mountAnnotation(frame, video, provider, { t, icon: (name) => this._icon(name) }));
    })().catch((err) => console.warn("annotation", err));
  }

  _dropScreen(participantId) {
    this.$(`[data-role="screens"] .screen[data-participant-id="${CSS.escape(participantId)}"]`)?.remove();
    const entry = this._annotations?.get(participantId);
    this._annotations?.delete(participantId);
    entry?.view?.destroy();
    entry?.provider?.destroy();
  }

  // The size each received video is shown at goes to the edge (simulcast: it sends the layer that fits).
  _watchSize(video) {
    this._sizeObserver ??= new ResizeObserver((entries) => entries.forEach((e) => this._reportSize(e.target)));
    this._sizeObserver.observe(video);
    video.onresize = () => this._reportSize(video); // the picture's own size changed (another layer, a rotation)
  }

  _reportSize(video) {
    const track = video.srcObject?.getVideoTracks()[0];
    if (!track || !this.room) return;
    const box = { w: video.clientWidth, h: video.clientHeight };
    const aspect = video.videoWidth && video.videoHeight ? video.videoHeight / video.videoWidth : 9 / 16;
    // object-fit: cover fills the box (the picture is cropped); contain fits inside it.
    const cover = getComputedStyle(video).objectFit === "cover";
    const height = box.w && box.h ? (cover ? Math.max(box.h, box.w * aspect) : Math.min(box.h, box.w * aspect)) : 0;
    this.room.setVideoSize(track, height ? height / aspect : 0, height);
  }

  _detach({ participantId, source, track }) {
    if (source === "screen" && track?.kind === "video") {
      this._dropScreen(participantId);
      return;
    }
    const tile = this._tiles.get(participantId);
    if (!tile) return;
    if (track?.kind === "video") {
      tile.querySelector("video").srcObject = null;
      this._refreshTile(participantId, tile);
    } else tile.querySelectorAll("audio").forEach((a) => a.srcObject?.getTracks().includes(track) && a.remove());
  }

  // ---- participants panel ----------------------------------------------------------------------------------

  _renderPeople() {
    const room = this.room;
    if (!room?.me) return;
    const people = [...room.participants.values()];
    if (!room.participants.has(room.me.id)) people.unshift(room.me);
    this.$('[data-role="people-title"]').textContent = t("p.title", { n: people.length });
    this.$('[data-role="people-count"]').textContent = String(people.length);
    const waiting = room.isHost ? [...room.waiting.values()] : [];
    this.$('[data-role="waiting-count"]').textContent = waiting.length ? String(waiting.length) : "";
    this.$('[data-role="waiting-section"]').hidden = waiting.length === 0;
    this.$('[data-role="waiting-heading"]').textContent = t("p.waiting", { n: waiting.length });
    this.$('[data-role="waiting-list"]').replaceChildren(
      ...waiting.map((p) =>
        h(
          "li",
          { class: "person", dataset: { participantId: p.id, state: "waiting" } },
          h("span", { class: "who" }, h("span", { class: "name", text: p.displayName })),
          h("button", { type: "button", dataset: { action: "admit-participant" }, "aria-label": `${t("p.admit")} ${p.displayName}`, text: t("p.admit") }),
          h("button", { type: "button", dataset: { action: "deny-participant" }, "aria-label": `${t("p.deny")} ${p.displayName}`, text: t("p.deny") }),
        ),
      ),
    );
    const query = this.$('[data-role="people-search"]').value.trim().toLowerCase();
    // Raised hands first (in the order raised), then hosts, then by name.
    const rank = (p) => (p.handRaisedAt ? 0 : p.role === "HOST" ? 1 : p.role === "COHOST" ? 2 : 3);
    const shown = people
      .filter((p) => !query || p.displayName.toLowerCase().includes(query))
      .sort((a, b) => rank(a) - rank(b) || String(a.handRaisedAt ?? "").localeCompare(String(b.handRaisedAt ?? "")) || a.displayName.localeCompare(b.displayName));
    this.$('[data-role="people-empty"]').hidden = shown.length > 0;
    const focused = this.shadowRoot.activeElement;
    const focusKey = focused?.closest?.("[data-role=people] li") ? [focused.closest("li").dataset.participantId, focused.dataset.action] : null;
    this.$('[data-role="people"]').replaceChildren(...shown.map((p) => this._personRow(p)));
    if (focusKey) this.$(`[data-role="people"] li[data-participant-id="${CSS.escape(focusKey[0])}"] [data-action="${focusKey[1]}"]`)?.focus();
  }

  _personRow(p) {
    const room = this.room;
    const me = p.id === room.me.id;
    const role = p.role === "HOST" ? t("p.host") : p.role === "COHOST" ? t("p.cohost") : p.isGuest ? t("p.guest") : "";
    const who = h(
      "span",
      { class: "who" },
      h("span", { class: "name", text: me ? t("m.you", { name: p.displayName }) : p.displayName }),
      role ? h("span", { class: "role", text: role }) : null,
      p.recordingLocally ? h("span", { class: "role", text: `● ${t("p.recording")}` }) : null,
    );
    const status = h("span", { class: "status" });
    if (p.handRaisedAt) status.append(h("span", { class: "state-hand", role: "img", "aria-label": t("m.handUp") }, this._icon("hand")));
    const muted = me ? !room.micEnabled : p.audioMuted;
    status.append(h("span", { class: muted ? "state-muted" : "", role: "img", "aria-label": muted ? t("m.micOff") : t("m.micOn") }, this._icon(muted ? "mic-off" : "mic")));
    const li = h("li", { class: "person", dataset: { participantId: p.id } }, who, status);
    if (room.isHost && !me) {
      li.append(h("button", { type: "button", dataset: { action: "mute-participant" }, disabled: Boolean(p.audioMuted), "aria-label": t("p.muteName", { name: p.displayName }), text: t("p.mute") }));
      const open = this._openPersonMenu === p.id;
      li.append(h("button", { type: "button", class: "icon-button", dataset: { action: "person-menu" }, "aria-haspopup": "true", "aria-expanded": String(open), "aria-label": t("p.actionsFor", { name: p.displayName }) }, this._icon("ellipsis")));
      if (open) li.append(this._personMenu(p));
    }
    return li;
  }

  _personMenu(p) {
    const room = this.room;
    const item = (action, label) => h("button", { type: "button", dataset: { action } }, t(label));
    const items = [];
    if (p.audioMuted) items.push(item("ask-unmute", "p.askUnmute"));
    if (p.videoOn) items.push(item("stop-video", "p.stopVideo"));
    if (p.handRaisedAt) items.push(item("lower-hand", "p.lowerHand"));
    items.push(item("rename-participant", "p.rename"));
    items.push(room.meetingState.spotlightParticipantId === p.id ? item("unspotlight", "p.unspotlight") : item("spotlight", "p.spotlight"));
    if ((p.role === "PARTICIPANT" || p.role === "GUEST") && room.me.role === "HOST") items.push(item("make-cohost", "p.makeCohost"));
    if (p.role === "COHOST" && room.me.role === "HOST") items.push(item("revoke-cohost", "p.revokeCohost"));
    if (!["HOST", "COHOST"].includes(p.role) && !room.allowLocalRecording) {
      items.push(p.localRecordingGranted ? item("deny-recording", "p.denyRecording") : item("allow-recording", "p.allowRecording"));
    }
    if (p.role !== "HOST") items.push(h("button", { type: "button", class: "danger-text", dataset: { action: "remove-participant" } }, t("p.remove")));
    return h("div", { class: "menu", role: "group", "aria-label": t("p.actionsFor", { name: p.displayName }) }, items);
  }

  // ---- chat ------------------------------------------------------------------------------------------------

  _renderChatTo() {
    const room = this.room;
    const select = this.$('[data-role="chat-to"]');
    if (!room?.me) return;
    const current = select.value;
    const others = [...room.participants.values()].filter((p) => p.id !== room.me.id).sort((a, b) => a.displayName.localeCompare(b.displayName));
    select.replaceChildren(new Option(t("c.everyone"), ""), ...others.map((p) => new Option(p.displayName, p.id)));
    select.value = others.some((p) => p.id === current) ? current : "";
  }

  async _loadChatHistory() {
    try {
      const [view, history] = await Promise.all([this._chatView(), this.room.chatHistory()]);
      for (const m of history) view.add(m, false);
    } catch (err) {
      console.warn("meetmesh: chat history", err);
    }
  }

  // The chat's messages live in chat.js, loaded once joined; calls queue on its promise, so order is kept.
  _chatView() {
    this._chatPromise ??= import("./chat.js").then(({ ChatView }) => new ChatView(this));
    return this._chatPromise;
  }

  _withChat(fn) {
    this._chatView().then(fn, (err) => console.warn("meetmesh: chat", err));
  }

  /** A message arrived while the chat is closed: the badge counts it, a toast says who. */
  _chatUnread(m) {
    this._unread += 1;
    this.$('[data-role="chat-unread"]').textContent = String(this._unread);
    this._toast(t("c.newFrom", { name: m.senderName }));
  }

  // ---- polls -----------------------------------------------------------------------------------------------

  async _launchNewPoll() {
    const question = this.$('[data-role="poll-question"]').value.trim();
    const options = this.$('[data-role="poll-options"]').value.split("\n").map((o) => o.trim()).filter(Boolean);
    if (!question || options.length < 2) return this._pollStatus(t("poll.needTwo"));
    try {
      const poll = await this.room.createPoll({
        question,
        options,
        kind: this.$('[data-role="poll-multiple"]').checked ? "MULTIPLE" : "SINGLE",
        anonymous: this.$('[data-role="poll-anonymous"]').checked,
      });
      await this.room.launchPoll(poll.id);
      this.$('[data-role="poll-question"]').value = "";
      this.$('[data-role="poll-options"]').value = "";
      this._pollStatus("");
      await this._renderPolls();
    } catch (err) {
      this._pollStatus(errorText(err));
    }
  }

  _pollStatus(text) {
    this.$('[data-role="poll-status"]').textContent = text;
  }

  async _renderPolls() {
    const room = this.room;
    const polls = (await room.polls()).filter((p) => p.status !== "DRAFT").reverse(); // newest first
    const list = this.$('[data-role="poll-list"]');
    const checked = new Set([...list.querySelectorAll("input:checked")].map((i) => `${i.name}/${i.value}`)); // a choice being made survives
    list.replaceChildren(
      ...(polls.length ? polls.map((p) => this._pollCard(p)) : [h("p", { text: t("poll.none") })]),
    );
    for (const input of list.querySelectorAll("input")) input.checked = checked.has(`${input.name}/${input.value}`);
  }

  _pollCard(p) {
    const room = this.room;
    const status = t(p.status === "LAUNCHED" ? "poll.open" : "poll.ended");
    const card = h("section", { class: "poll", dataset: { pollId: p.id }, "aria-label": p.question }, h("h3", { text: p.question }), h("p", { class: "role", text: status }));
    if (p.status === "LAUNCHED" && !p.myVote) {
      const type = p.kind === "MULTIPLE" ? "checkbox" : "radio";
      const group = h("fieldset", {}, h("legend", { class: "sr-only", text: p.question }), ...p.options.map((o) => h("label", { class: "check" }, h("input", { type, name: `poll-${p.id}`, value: o.id }), ` ${o.text}`)));
      card.append(group, h("button", { type: "button", class: "primary", dataset: { action: "vote" } }, t("poll.vote")));
    } else if (p.myVote) card.append(h("p", { class: "role", text: t("poll.voted") }));
    if (p.results) {
      const counts = new Map(p.results.options.map((r) => [r.optionId, r]));
      card.append(
        h("p", { class: "role", text: t("poll.voters", { n: p.results.voterCount }) }),
        ...p.options.map((o) => {
          const r = counts.get(o.id) ?? { votes: 0, percent: 0 };
          return h("div", { class: "result", dataset: { optionId: o.id } }, h("span", { text: `${o.text}: ${r.votes} (${r.percent}%)` }), h("meter", { min: 0, max: 100, value: r.percent, "aria-label": o.text }));
        }),
      );
    }
    if (room.isHost && p.status === "LAUNCHED") card.append(h("button", { type: "button", dataset: { action: "end-poll" } }, t("poll.end")));
    if (room.isHost && p.status === "ENDED" && !p.resultsShared) card.append(h("button", { type: "button", dataset: { action: "share-poll" } }, t("poll.share")));
    return card;
  }

  // ---- breakout rooms --------------------------------------------------------------------------------------

  async _renderBreakouts() {
    const room = this.room;
    const body = this.$('[data-role="breakout-body"]');
    const state = room.isHost ? await room.breakoutSession() : room.breakouts;
    if (room.isHost) room.breakouts = { ...(room.breakouts ?? {}), ...state };
    const name = (id) => (id === room.me.id ? t("m.you", { name: room.me.displayName }) : (room.participants.get(id)?.displayName ?? "…"));
    const rooms = state?.rooms ?? [];
    const parts = [];
    if (room.isHost) {
      if (state.status === "CLOSED") {
        parts.push(
          h("label", {}, t("bo.count"), " ", h("input", { type: "number", min: "1", max: "50", value: String(Math.max(rooms.length, 2)), dataset: { role: "bo-count" } })),
          h("button", { type: "button", dataset: { action: "create-rooms" } }, t("bo.create")),
        );
      }
      for (const r of rooms) {
        const members = state.status === "CLOSED" ? r.assignedParticipants.map((p) => p.id) : r.participantIds;
        parts.push(h("h3", { text: r.name }), h("ul", {}, members.map((id) => h("li", { class: "person", text: name(id) }))));
      }
      if (state.status === "CLOSED" && rooms.length) {
        parts.push(h("h3", { text: t("bo.unassigned") }));
        parts.push(
          h(
            "ul",
            {},
            state.unassignedParticipants.map((p) =>
              h(
                "li",
                { class: "person", dataset: { participantId: p.id } },
                h("span", { class: "who", text: p.displayName }),
                h("select", { "aria-label": t("bo.assignTo", { name: p.displayName }), dataset: { role: "bo-assign" } }, new Option("—", ""), ...rooms.map((r) => new Option(r.name, r.id))),
              ),
            ),
          ),
          h("button", { type: "button", dataset: { action: "auto-assign" } }, t("bo.auto")),
          h("label", {}, t("bo.minutes"), " ", h("input", { type: "number", min: "0", max: "1440", value: "", placeholder: "∞", dataset: { role: "bo-minutes" } })),
          h("button", { type: "button", class: "primary", dataset: { action: "open-rooms" } }, t("bo.open")),
        );
      }
      if (state.status === "OPEN") {
        parts.push(
          h("label", {}, t("bo.broadcast"), " ", h("input", { dataset: { role: "bo-message" }, maxlength: "500" })),
          h("button", { type: "button", dataset: { action: "broadcast" } }, t("bo.send")),
          h("label", {}, t("bo.grace"), " ", h("input", { type: "number", min: "0", max: "600", value: String(state.graceSeconds), dataset: { role: "bo-grace" } })),
          h("button", { type: "button", class: "danger", dataset: { action: "close-rooms" } }, t("bo.close")),
        );
      }
    } else {
      const mine = rooms.find((r) => r.participantIds.includes(room.me.id));
      parts.push(h("p", { text: mine ? t("bo.youAreIn", { room: mine.name }) : t("bo.mainRoom") }));
      if (mine) parts.push(h("button", { type: "button", dataset: { action: "ask-help" } }, t("bo.askHelp")));
    }
    // Events re-render the panel while the host may be typing: keep what is in the fields, and the focus.
    const kept = new Map([...body.querySelectorAll("input[data-role]")].map((i) => [i.dataset.role, i.value]));
    const focused = this.shadowRoot.activeElement?.closest?.('[data-role="breakout-body"]') ? this.shadowRoot.activeElement.dataset.role : null;
    body.replaceChildren(...parts);
    for (const input of body.querySelectorAll("input[data-role]")) if (kept.has(input.dataset.role)) input.value = kept.get(input.dataset.role);
    if (focused) body.querySelector(`[data-role="${focused}"]`)?.focus();
    for (const select of body.querySelectorAll('[data-role="bo-assign"]')) {
      select.addEventListener("change", async () => {
        try {
          await room.assignBreakoutRoom(select.closest("li").dataset.participantId, select.value);
          await this._renderBreakouts();
        } catch (err) {
          this._toast(errorText(err));
        }
      });
    }
  }

  // "Rooms close in 4:59": the timer, then the countdown back to the main room.
  _tickCountdown() {
    const b = this.room?.breakouts;
    const el = this.$('[data-role="breakout-countdown"]');
    const until = b?.status === "CLOSING" ? b.returnsAt : b?.status === "OPEN" ? b.closesAt : null;
    const left = until ? Math.max(0, Math.round((Date.parse(until) - Date.now()) / 1000)) : null;
    el.hidden = left === null;
    if (left === null) return;
    const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    el.textContent = t(b.status === "CLOSING" ? "bo.returnIn" : "bo.closesIn", { time: text });
  }

  // ---- shared notes and whiteboard (web/collab, loaded on first open) --------------------------------------

  async _openCollab(which) {
    const room = this.room;
    this._collab ??= {};
    const doc = which === "notes" ? "notes" : room.boardName;
    const open = this._collab[which];
    if (open && open.doc === doc) return;
    open?.view.destroy();
    open?.provider.destroy();
    const body = this.$(which === "notes" ? '[data-role="notes-body"]' : '[data-role="board-body"]');
    const provider = await room.openDocument(doc);
    const { mountLive } = await import("../collab/provider.js");
    const { mountNotes } = which === "notes" ? await import("../collab/notes.js") : {};
    const { mountBoard } = which === "notes" ? {} : await import("../collab/board.js");
    // Mounted again on a fresh document if the server refuses an edit (web/collab/provider.js, _startOver).
    const view = mountLive(provider, () =>
      which === "notes" ? mountNotes(body, provider, { t, history: () => room.documentHistory(doc) }) : mountBoard(body, provider, { t, icon: (name) => this._icon(name) }),
    );
    this._collab[which] = { doc, provider, view };
  }

  // ---- panels, dialogs -------------------------------------------------------------------------------------

  _togglePanel(name, force = null) {
    const panel = this.$(`[data-panel="${name}"]`);
    const open = force ?? panel.hidden;
    // One sheet at a time on a phone; side by side where there is room.
    const others = [...this.shadowRoot.querySelectorAll("aside.panel")].filter((p) => p !== panel && !p.hidden);
    if (open && matchMedia("(max-width: 640px)").matches) others.forEach((p) => (p.hidden = true));
    // Two side by side at most: the one opened longest ago makes room.
    else if (open && others.length >= 2) others.sort((a, b) => (a._openedAt ?? 0) - (b._openedAt ?? 0))[0].hidden = true;
    panel.hidden = !open;
    if (open) panel._openedAt = performance.now();
    const button = this.$(`[data-action="${name}"]`);
    button?.setAttribute("aria-expanded", String(open));
    if (name === "chat" && open) {
      this._unread = 0;
      this.$('[data-role="chat-unread"]').textContent = "";
      this.$('[data-role="chat-input"]').focus();
    } else if (open) panel.querySelector("input, button:not([data-action=close-panel])")?.focus();
    if (!open) button?.focus();
  }

  /**
   * A modal question; resolves with the chosen action (or null), the input's value, the checkbox and the
   * choice (`choice`: {label, options: [[value, text]], value}, shown as a select).
   */
  _ask({ title, body = "", input = null, check = null, choice = null, actions }) {
    const dialog = this.$('[data-role="dialog"]');
    this.$('[data-role="dialog-title"]').textContent = title;
    this.$('[data-role="dialog-body"]').textContent = body;
    this.$('[data-role="dialog-input-row"]').hidden = input === null;
    this.$('[data-role="dialog-input-label"]').textContent = input?.label ?? "";
    this.$('[data-role="dialog-input"]').value = input?.value ?? "";
    this.$('[data-role="dialog-check-row"]').hidden = check === null;
    this.$('[data-role="dialog-check-label"]').textContent = check ?? "";
    this.$('[data-role="dialog-check"]').checked = false;
    this.$('[data-role="dialog-select-row"]').hidden = choice === null;
    this.$('[data-role="dialog-select-label"]').textContent = choice?.label ?? "";
    this.$('[data-role="dialog-select"]').replaceChildren(...(choice?.options ?? []).map(([value, text]) => new Option(text, value, false, value === choice.value)));
    this.$('[data-role="dialog-actions"]').replaceChildren(
      h("button", { value: "", type: "submit", dataset: { dialog: "cancel" } }, t("d.cancel")),
      ...actions.map(([value, label, cls]) => h("button", { value, type: "submit", class: cls ?? "primary", dataset: { dialog: value } }, label)),
    );
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener(
        "close",
        () =>
          resolve({
            action: dialog.returnValue || null,
            value: this.$('[data-role="dialog-input"]').value.trim(),
            checked: this.$('[data-role="dialog-check"]').checked,
            chosen: this.$('[data-role="dialog-select"]').value,
          }),
        { once: true },
      );
      dialog.showModal();
      (input ? this.$('[data-role="dialog-input"]') : dialog.querySelector(`[data-dialog="${actions[0][0]}"]`)).focus();
    });
  }

  async _openDevices(anchor) {
    const menu = this.$('[data-role="device-menu"]');
    const devices = await navigator.mediaDevices.enumerateDevices();
    const current = this.room?.stream?.getAudioTracks()[0]?.getSettings().deviceId;
    const currentCam = this.room?.stream?.getVideoTracks()[0]?.getSettings().deviceId;
    const group = (kind, heading, now) => [
      h("h3", { text: heading }),
      ...devices
        .filter((d) => d.kind === kind)
        .map((d, i) => h("button", { type: "button", dataset: { action: "pick-device", kind, deviceId: d.deviceId }, "aria-pressed": String(d.deviceId === now) }, d.label || `${heading} ${i + 1}`)),
    ];
    menu.replaceChildren(...group("audioinput", t("prejoin.microphone"), current), ...group("videoinput", t("prejoin.camera"), currentCam));
    this._toggleMenu("device-menu", anchor);
  }

  async _openReactions(anchor) {
    const menu = this.$('[data-role="reaction-menu"]');
    if (!menu.childElementCount) {
      this._reactionChoices ??= await this.room.reactionChoices();
      menu.replaceChildren(...this._reactionChoices.map((emoji) => h("button", { type: "button", dataset: { action: "send-reaction", emoji }, "aria-label": `${t("r.choose")}: ${emoji}`, text: emoji })));
    }
    this._toggleMenu("reaction-menu", anchor);
  }

  // ---- clicks ----------------------------------------------------------------------------------------------

  async _onClick(ev) {
    const button = ev.target.closest("button[data-action]");
    if (!ev.target.closest(".menu") && button?.dataset.action !== "more" && button?.dataset.action !== "person-menu") {
      // A click anywhere else closes open menus (the one clicked opens again below if it was its button).
      const wasOpen = this._openPersonMenu || [...this.shadowRoot.querySelectorAll(".toolbar .menu")].some((m) => !m.hidden);
      if (wasOpen && !["mic-devices", "reactions"].includes(button?.dataset.action)) this._closeMenus();
    }
    if (!button) return;
    const room = this.room;
    const pid = button.closest("[data-participant-id]")?.dataset.participantId;
    const person = pid ? (room?.participants.get(pid) ?? room?.waiting.get(pid)) : null;
    const inMoreMenu = Boolean(button.closest('[data-role="more-menu"]'));
    try {
      switch (button.dataset.action) {
        case "join":
        case "rejoin":
          this._tiles.forEach((t) => t.remove());
          this._tiles.clear();
          if (this._chatPromise) (await this._chatView()).clear();
          this.$('[data-role="screens"]').replaceChildren();
          await this.join();
          break;
        case "mic":
          await room.setMicEnabled(!room.micEnabled);
          break;
        case "mic-devices":
          await this._openDevices(button);
          break;
        case "pick-device":
          await room.switchDevice(button.dataset.kind, button.dataset.deviceId);
          if (button.dataset.kind === "videoinput") this._showSelf();
          this._closeMenus();
          break;
        case "camera":
          await room.setCameraEnabled(!room.cameraEnabled);
          this._refreshTiles();
          break;
        case "share":
          await (room.sharing ? room.stopScreenShare() : room.shareScreen());
          break;
        case "captions": {
          const box = this.$('[data-role="captions"]');
          box.hidden = !box.hidden;
          break;
        }
        case "transcript":
          this._togglePanel("transcript");
          break;
        case "notes":
        case "whiteboard":
          this._togglePanel(button.dataset.action);
          if (!this.$(`[data-panel="${button.dataset.action}"]`).hidden) await this._openCollab(button.dataset.action);
          break;
        case "polls":
          this._togglePanel("polls");
          if (!this.$('[data-panel="polls"]').hidden) {
            this.$('[data-role="polls-new"]').textContent = "";
            await this._renderPolls();
          }
          break;
        case "vote": {
          const card = button.closest("[data-poll-id]");
          const chosen = [...card.querySelectorAll("input:checked")].map((i) => i.value);
          if (chosen.length) await room.votePoll(card.dataset.pollId, chosen);
          await this._renderPolls();
          break;
        }
        case "end-poll":
          await room.endPoll(button.closest("[data-poll-id]").dataset.pollId);
          await this._renderPolls();
          break;
        case "share-poll":
          await room.sharePollResults(button.closest("[data-poll-id]").dataset.pollId);
          await this._renderPolls();
          break;
        case "breakouts":
          this._togglePanel("breakouts");
          if (!this.$('[data-panel="breakouts"]').hidden) await this._renderBreakouts();
          break;
        case "create-rooms":
          await room.createBreakoutRooms(Number(this.$('[data-role="bo-count"]').value) || 2);
          await this._renderBreakouts();
          break;
        case "auto-assign":
          await room.autoAssignBreakoutRooms();
          await this._renderBreakouts();
          break;
        case "open-rooms":
          await room.openBreakoutRooms(Number(this.$('[data-role="bo-minutes"]').value) || null);
          break;
        case "close-rooms":
          await room.closeBreakoutRooms(Number(this.$('[data-role="bo-grace"]').value) || 0);
          break;
        case "broadcast": {
          const input = this.$('[data-role="bo-message"]');
          if (input.value.trim()) await room.broadcastToBreakoutRooms(input.value.trim());
          input.value = "";
          break;
        }
        case "ask-help":
          await room.askForBreakoutHelp();
          this._toast(t("bo.helpSent"));
          break;
        case "people":
        case "chat":
          this._togglePanel(button.dataset.action);
          break;
        case "close-panel":
          this._togglePanel(button.closest("[data-panel]").dataset.panel, false);
          break;
        case "more":
          this._toggleMenu("more-menu", button);
          break;
        case "reactions":
          await this._openReactions(button);
          break;
        case "send-reaction":
          await room.sendReaction(button.dataset.emoji);
          this._float(room.me.id, button.dataset.emoji);
          this._closeMenus();
          break;
        case "hand":
          await room.setHandRaised(!room.handRaised);
          break;
        case "cloud-record":
          if (room.cloudRecording) await room.stopCloudRecording();
          else await room.startCloudRecording();
          break;
        case "local-record":
          if (room.localRecording) await room.stopLocalRecording();
          else await room.startLocalRecording({ tiles: () => this._recordingTiles() });
          break;
        case "leave":
          if (room?.me?.role === "HOST") await this._leaveAsHost();
          else await room.leave();
          break;
        case "invite": {
          const link = await room.inviteLink();
          const notice = this.$('[data-role="notice"]');
          notice.textContent = t("m.inviteLink", { link }); // text, never HTML
          notice.hidden = false;
          const copied = await navigator.clipboard?.writeText(link).then(() => true, () => false); // not in insecure contexts: shown anyway
          if (copied) this._toast(t("m.inviteCopied"));
          break;
        }
        case "speaker-view":
          this._speakerView = !this._speakerView;
          button.setAttribute("aria-pressed", String(this._speakerView));
          this._refreshTiles();
          break;
        case "hide-self":
          this._setHideSelf(!this._hideSelf);
          break;
        case "settings":
          this._togglePanel("settings");
          if (!this.$('[data-panel="settings"]').hidden) {
            const { renderSettings } = await import("./settings.js");
            await renderSettings(this);
            this.$('[data-panel="settings"] select')?.focus();
          }
          break;
        case "page-prev":
        case "page-next":
          this._page = (this._page ?? 0) + (button.dataset.action === "page-next" ? 1 : -1);
          this._paginate();
          break;
        case "pin":
          this._pinned = this._pinned === pid ? null : pid;
          this._refreshTiles();
          break;
        case "lock":
          await room.setLocked(!room.meetingState.locked);
          break;
        case "waiting-room":
          await room.setWaitingRoom(!room.meetingState.waitingRoom);
          break;
        case "self-unmute":
          await room.setAllowSelfUnmute(!room.meetingState.allowSelfUnmute);
          break;
        case "mute-all":
          await room.muteAll();
          break;
        case "lower-all-hands":
          await room.lowerAllHands();
          break;
        case "admit-all":
          await room.admitAll();
          break;
        case "person-menu":
          this._openPersonMenu = this._openPersonMenu === pid ? null : pid;
          this._renderPeople();
          this.$(`[data-role="people"] li[data-participant-id="${CSS.escape(pid)}"] .menu button`)?.focus();
          break;
        case "mute-participant":
          await room.muteParticipant(pid);
          break;
        case "ask-unmute":
          await room.askToUnmute(pid);
          break;
        case "stop-video":
          await room.stopVideo(pid);
          break;
        case "lower-hand":
          await room.lowerHand(pid);
          break;
        case "make-cohost":
          await room.makeCohost(pid);
          break;
        case "revoke-cohost":
          await room.revokeCohost(pid);
          break;
        case "spotlight":
        case "unspotlight":
          await room.spotlight(button.dataset.action === "spotlight" ? pid : null);
          break;
        case "rename-participant": {
          const { action, value } = await this._ask({
            title: t("p.renameTitle", { name: person?.displayName ?? "" }),
            input: { label: t("p.newName"), value: person?.displayName ?? "" },
            actions: [["rename", t("p.rename")]],
          });
          if (action === "rename" && value) await room.renameParticipant(pid, value);
          break;
        }
        case "admit-participant":
          await room.admitParticipant(pid);
          break;
        case "deny-participant":
          await room.denyParticipant(pid);
          break;
        case "remove-participant": {
          const name = person?.displayName ?? "";
          const { action, checked } = await this._ask({
            title: t("p.removeTitle", { name }),
            body: t("p.removeBody", { name }),
            check: t("p.allowRejoin"),
            actions: [["confirm", t("p.remove"), "danger"]],
          });
          // Removed people stay out unless the host ticks "let them rejoin".
          if (action === "confirm") await room.removeParticipant(pid, { allowRejoin: checked });
          break;
        }
        case "allow-recording":
        case "deny-recording":
          await room.allowLocalRecordingFor(pid, button.dataset.action === "allow-recording");
          break;
        case "delete-message":
        case "chat-reply":
        case "chat-edit":
        case "cancel-compose":
        case "chat-react-menu":
        case "chat-react":
        case "chat-hit":
        case "close-search":
          await (await this._chatView()).click(button.dataset.action, button);
          break;
        case "attach":
          this.$('[data-role="chat-file"]').click();
          break;
      }
      if (inMoreMenu && !["more", "reactions", "mic-devices"].includes(button.dataset.action)) this._closeMenus();
      if (button.closest(".person .menu")) {
        this._openPersonMenu = null;
        this._renderPeople();
      }
    } catch (err) {
      if (room && this.$('[data-page="meeting"]').hidden === false) this._toast(errorText(err));
      else this._error(err);
    } finally {
      if (room) this._syncButtons();
    }
  }

  // The host leaves: someone else runs the meeting (a signed-in person becomes host; a guest, who cannot be
  // host, co-host), or it ends for everyone. Only the host may end it for all (co-hosts just leave).
  async _leaveAsHost() {
    const room = this.room;
    const others = [...room.participants.values()].filter((p) => p.id !== room.me.id && p.state !== "LEFT");
    const rank = (p) => (p.role === "COHOST" && !p.isGuest ? 0 : !p.isGuest ? 1 : p.role === "COHOST" ? 2 : 3);
    others.sort((a, b) => rank(a) - rank(b) || a.displayName.localeCompare(b.displayName));
    const { action, chosen } = await this._ask({
      title: t("leave.title"),
      body: t(others.length ? "leave.bodyAssign" : "leave.body"),
      choice: others.length
        ? { label: t("leave.newHost"), options: others.map((p) => [p.id, p.isGuest ? t("leave.asCohost", { name: p.displayName }) : p.displayName]), value: others[0].id }
        : null,
      actions: [["end-for-all", t("leave.endForAll"), "danger"], others.length ? ["leave-assign", t("leave.assignAndLeave"), "primary"] : ["leave-only", t("leave.leaveOnly"), ""]],
    });
    if (action === "end-for-all") await room.endForAll();
    else if (action === "leave-assign") {
      const next = room.participants.get(chosen);
      if (next) await (next.isGuest ? room.makeCohost(next.id) : room.transferHost(next.id));
      await room.leave();
    } else if (action === "leave-only") await room.leave();
  }

  // What the page shows: screen shares first, then the grid's tiles, each with its label.
  _recordingTiles() {
    const screens = [...this.$('[data-role="screens"]').querySelectorAll("video[data-source=screen]")].map((video) => ({
      video,
      label: t("m.screenOf", { name: this.room.participants.get(video.dataset.participantId)?.displayName ?? "" }),
    }));
    const tiles = [...this._tiles.values()].map((tile) => ({ video: tile.querySelector("video"), label: tile.querySelector(".label").textContent }));
    return [...screens, ...tiles];
  }

  _finish(text) {
    clearInterval(this._qualityTimer);
    this.$('[data-role="left-text"]').textContent = text;
    this._show("left");
    this.$('[data-role="dialog"]').close();
    this._tiles.forEach((t) => t.remove());
    this._tiles.clear();
    this._preview?.getTracks().forEach((t) => t.stop());
    this._preview = null;
    this._previewEffect?.stop();
    this._previewEffect = null;
  }

  /** Self-view shows what others get: the camera through the background effect, if one is on. */
  _showSelf() {
    const room = this.room;
    if (!room?.me || room.state !== "connected") return;
    const track = room.localVideoTrack();
    this._tile(room.me.id, room.me.displayName, true).querySelector("video").srcObject = new MediaStream(track ? [track] : []);
  }

  _show(page) {
    for (const el of this.shadowRoot.querySelectorAll("[data-page]")) el.hidden = el.dataset.page !== page;
    if (page === "meeting") requestAnimationFrame(() => this._fitToolbar());
  }

  _error(err) {
    console.warn("meetmesh:", err);
    // API codes become sentences (a wrong passcode says so, not "BAD_PASSCODE: …"); the SDK's own are already.
    this.$('[data-role="error"]').textContent = errorText(err, "join");
  }

  /** The pre-join microphone level: RMS of the preview's audio, drawn while the pre-join page shows. */
  _meter(stream) {
    this._stopMeter();
    const track = stream.getAudioTracks()[0];
    if (!track || typeof AudioContext === "undefined") return;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const meter = this.$('[data-role="mic-level"]');
    const draw = () => {
      if (this.$('[data-page="prejoin"]').hidden || track.readyState === "ended") return this._stopMeter();
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const x of samples) sum += x * x;
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4); // speech RMS ~0.05-0.2: scaled to fill
      this._meterFrame = requestAnimationFrame(draw);
    };
    this._meterCtx = ctx;
    // Browsers may start an AudioContext suspended until the person interacts with the page.
    if (ctx.state === "suspended") this.shadowRoot.addEventListener("pointerdown", () => ctx.resume(), { once: true });
    this._meterFrame = requestAnimationFrame(draw);
  }

  _stopMeter() {
    cancelAnimationFrame(this._meterFrame);
    this._meterCtx?.close();
    this._meterCtx = null;
  }
}

if (!customElements.get("meetmesh-room")) customElements.define("meetmesh-room", MeetMeshRoomElement);
