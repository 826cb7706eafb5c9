// <meetmesh-room>: the whole meeting UI in one embeddable element (open shadow DOM).
//
//   <meetmesh-room number="12345678901" api="https://meet.example.com" name="Ada"></meetmesh-room>
//
// Attributes: number (required), api (default: this page's origin), name, passcode, invite-key (the `k` of an
// invite link: no passcode asked), token (an access token;
// default: localStorage "meetmesh.accessToken"), autojoin (skip the pre-join page), simulcast="off" (send the
// camera in one size only; default: three). Property `room` is the
// Room (SDK) once joining starts; DOM events "meetmesh:<event>" mirror the Room's.

import { errorText, t } from "../i18n/index.js";
import { GraphQLClient } from "./graphql.js";
import { saveBlob } from "./localrecording.js";
import { Room } from "./room.js";

const STYLE = `
:host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #eee; background: #111; min-height: 360px; }
section { padding: 16px; } [hidden] { display: none !important; }
button, select, input { font: inherit; padding: 6px 10px; border-radius: 6px; border: 1px solid #444; background: #222; color: #eee; }
button[aria-pressed="true"] { background: #a33; }
.preview { width: 320px; aspect-ratio: 4/3; background: #000; border-radius: 8px; }
.prejoin label { display: block; margin: 8px 0; }
.stage { display: flex; gap: 12px; }
.main { flex: 1; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }
.tile { position: relative; background: #000; border-radius: 8px; overflow: hidden; aspect-ratio: 4/3; outline: 3px solid transparent; }
.tile.speaking { outline-color: #4c8; }
.tile video { width: 100%; height: 100%; object-fit: cover; }
.tile .label { position: absolute; left: 6px; bottom: 6px; background: #0008; padding: 2px 6px; border-radius: 4px; }
.screens video { width: 100%; max-height: 60vh; background: #000; border-radius: 8px; }
.toolbar { display: flex; gap: 8px; margin-top: 12px; }
aside { width: 260px; background: #1a1a1a; border-radius: 8px; padding: 8px; }
aside li { display: flex; gap: 6px; align-items: center; margin: 4px 0; } aside li span { flex: 1; }
.chat-log { height: 200px; overflow: auto; } .chat-log p { margin: 4px 0; }
.error { color: #f77; }
.error:empty { display: none; }
.level { display: block; width: 320px; max-width: 100%; height: 8px; }
.waiting { text-align: center; padding: 48px 16px; } .waiting p { color: #bbb; }
.notice { background: #553; padding: 6px 10px; border-radius: 6px; }
.captions { min-height: 1.4em; margin-top: 8px; font-size: 1.1em; } .captions p { margin: 2px 0; background: #000a; padding: 2px 8px; border-radius: 4px; }
.captions[hidden] { display: none; }
.local-recording { color: #f66; font-weight: 600; margin: 0 0 8px; }
.recording-banner { background: #611; color: #fff; padding: 6px 10px; border-radius: 6px; margin: 0 0 8px; }
`;

const TEMPLATE = `
<style>${STYLE}</style>
<section class="prejoin" data-page="prejoin">
  <h2 data-role="title">${t("prejoin.joinTitle")}</h2>
  <video class="preview" data-role="preview" autoplay muted playsinline aria-label="${t("prejoin.camera")}"></video>
  <label>${t("prejoin.camera")} <select data-role="camera"></select></label>
  <label>${t("prejoin.microphone")} <select data-role="microphone"></select></label>
  <label>${t("prejoin.micLevel")} <meter class="level" data-role="mic-level" min="0" max="1" low="0.05" high="0.8" optimum="0.3" value="0"></meter></label>
  <label>${t("prejoin.name")} <input data-role="name" autocomplete="name"></label>
  <label data-role="passcode-row" hidden>${t("prejoin.passcode")} <input data-role="passcode" type="password" autocomplete="off"></label>
  <button data-action="join">${t("prejoin.join")}</button>
  <p class="error" data-role="error" role="alert"></p>
</section>
<section class="waiting" data-page="waiting" hidden role="status" aria-live="polite">
  <h2>${t("waiting.title")}</h2>
  <p data-role="waiting-title"></p>
</section>
<section data-page="meeting" hidden>
  <div class="stage">
    <div class="main">
      <p class="notice" data-role="notice" hidden></p>
      <p class="recording-banner" data-role="recording-banner" role="status" aria-live="polite" hidden></p>
      <p class="local-recording" data-role="local-recording" role="status" hidden>● Recording locally</p>
      <div class="screens" data-role="screens"></div>
      <div class="grid" data-role="grid"></div>
      <div class="captions" data-role="captions" aria-live="polite"></div>
      <div class="toolbar">
        <button data-action="mic" aria-pressed="false">Mute</button>
        <button data-action="camera" aria-pressed="false">Stop video</button>
        <button data-action="share" aria-pressed="false">Share screen</button>
        <button data-action="captions" aria-pressed="true" title="Show or hide live captions">CC</button>
        <button data-action="people">Participants</button>
        <button data-action="chat">Chat</button>
        <button data-action="local-record" aria-pressed="false">Record</button>
        <button data-action="invite" title="Show the link to share">Invite</button>
        <button data-action="leave">Leave</button>
      </div>
    </div>
    <aside data-panel="people" hidden><h3>Participants</h3>
      <label data-role="host-options" hidden><input type="checkbox" data-role="allow-rejoin"> Removed people may rejoin</label>
      <ul data-role="people"></ul></aside>
    <aside data-panel="chat" hidden>
      <h3>Chat</h3><div class="chat-log" data-role="chat-log"></div>
      <form data-role="chat-form"><input data-role="chat-input" maxlength="4096"><button>Send</button></form>
    </aside>
  </div>
</section>
<section data-page="left" hidden><h2 data-role="left-text">You left the meeting.</h2><button data-action="rejoin" data-role="rejoin">Rejoin</button></section>
`;

export class MeetMeshRoomElement extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" }).innerHTML = TEMPLATE;
    this.room = null;
    this._preview = null; // MediaStream
    this._tiles = new Map(); // participantId -> tile element
  }

  $(selector) {
    return this.shadowRoot.querySelector(selector);
  }

  get apiUrl() {
    return this.getAttribute("api") || location.origin;
  }

  connectedCallback() {
    const s = this.shadowRoot;
    this.$('[data-role="name"]').value = this.getAttribute("name") || localStorage.getItem("meetmesh.displayName") || "";
    this.$('[data-role="passcode"]').value = this.getAttribute("passcode") || "";
    this._token = this.getAttribute("token") || localStorage.getItem("meetmesh.accessToken");
    s.addEventListener("click", (ev) => this._onClick(ev));
    this.$('[data-role="chat-form"]').addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = this.$('[data-role="chat-input"]');
      if (input.value.trim()) this.room?.sendChat(input.value).then(() => (input.value = ""), (err) => this._error(err));
    });
    for (const kind of ["camera", "microphone"]) this.$(`[data-role="${kind}"]`).addEventListener("change", () => this._startPreview());
    this._loadLobby();
    if (this.hasAttribute("autojoin")) this.join();
    else this._startPreview();
  }

  disconnectedCallback() {
    this._stopMeter();
    this.room?.leave();
    this._preview?.getTracks().forEach((t) => t.stop());
  }

  async _loadLobby() {
    const number = this.getAttribute("number");
    try {
      const lobby = (await new GraphQLClient(this.apiUrl).request(`query($n: String!) { meetingLobby(number: $n) { title hasPasscode } }`, { n: number })).meetingLobby;
      this.$('[data-role="title"]').textContent = lobby.title;
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
    this.$('[data-role="preview"]').srcObject = this._preview;
    this._meter(this._preview);
    await this._listDevices();
    return this._preview;
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
    const room = (this.room = new Room({
      apiUrl: this.apiUrl,
      number: this.getAttribute("number"),
      displayName: name || null,
      passcode: this.$('[data-role="passcode"]').value || null,
      inviteKey: this.getAttribute("invite-key") || null,
      token: this._token,
      stream,
      simulcast: this.getAttribute("simulcast") !== "off",
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

  _bind(room) {
    const relay = (type, fn) =>
      room.addEventListener(type, (ev) => {
        fn?.(ev.detail);
        this.dispatchEvent(new CustomEvent(`meetmesh:${type}`, { detail: ev.detail, bubbles: true, composed: true }));
      });
    relay("waiting", () => this._show("waiting"));
    relay("admitted");
    relay("connected", () => {
      this._show("meeting");
      this.$('[data-role="host-options"]').hidden = !room.isHost;
      this._syncRecordButton();
      this._tile(room.me.id, room.me.displayName, true).querySelector("video").srcObject = room.stream;
    });
    relay("participants", (list) => list.forEach((p) => p.id !== room.me.id && this._tile(p.id, p.displayName)));
    relay("participantjoined", (p) => p.id !== room.me.id && this._tile(p.id, p.displayName));
    relay("participantupdated", () => this._renderPeople());
    relay("participantwaiting", () => this._renderPeople());
    relay("participantleft", (p) => this._dropTile(p.id));
    relay("track", (t) => this._attach(t));
    relay("trackended", (t) => this._detach(t));
    relay("activespeaker", ({ participantId }) => this._tiles.forEach((el, id) => el.classList.toggle("speaking", id === participantId)));
    relay("caption", ({ speakerName, text, language }) => {
      const box = this.$('[data-role="captions"]');
      const line = document.createElement("p");
      line.textContent = `${speakerName}: ${text}`; // text, never HTML
      if (language) line.lang = language; // screen readers and fonts follow the caption's own language
      box.append(line);
      while (box.children.length > 2) box.firstElementChild.remove(); // the last two lines, as TV captions do
      clearTimeout(this._captionTimer);
      this._captionTimer = setTimeout(() => box.replaceChildren(), 8000);
    });
    relay("chat", (m) => {
      const p = document.createElement("p");
      p.textContent = `${m.senderName}: ${m.text ?? ""}`; // text, never HTML
      this.$('[data-role="chat-log"]').append(p);
    });
    relay("mutedbyhost", () => this._syncButtons());
    relay("screenshare", () => this._syncButtons());
    relay("firstframe");
    relay("recordingstate", (state) => {
      this._showRecordingState(state);
      this._renderPeople();
    });
    relay("permissions", () => this._syncRecordButton());
    relay("localrecording", ({ active, blob, filename }) => {
      this.$('[data-role="local-recording"]').hidden = !active;
      const button = this.$('[data-action="local-record"]');
      button.setAttribute("aria-pressed", String(active));
      button.textContent = active ? "Stop recording" : "Record";
      if (blob) saveBlob(blob, filename); // stopped by the button or by leaving: either way the file is saved
    });
    relay("reconnecting", () => Object.assign(this.$('[data-role="notice"]'), { hidden: false, textContent: "Connection lost - reconnecting…" }));
    relay("reconnected", () => (this.$('[data-role="notice"]').hidden = true));
    relay("left", () => this._finish("You left the meeting."));
    relay("ended", ({ reason }) => {
      this._finish(reason === "removed" ? "You were removed from the meeting." : reason === "denied" ? "The host did not let you in." : reason === "connection lost" ? "The connection was lost." : "The meeting has ended.");
      // Only a lost connection can be rejoined; removed, denied and ended are final (the server refuses too).
      this.$('[data-role="rejoin"]').hidden = reason !== "connection lost";
    });
  }

  // Everyone sees who records: the meeting (cloud) and anyone recording on their own device.
  _showRecordingState({ cloud, local }) {
    const parts = [];
    if (cloud === "recording") parts.push("● This meeting is being recorded");
    else if (cloud === "paused") parts.push("Recording paused");
    for (const p of local) parts.push(`● ${p.id === this.room?.me?.id ? "You are" : `${p.displayName} is`} recording locally`);
    const banner = this.$('[data-role="recording-banner"]');
    banner.textContent = parts.join(" · "); // text, never HTML
    banner.hidden = parts.length === 0;
  }

  _syncRecordButton() {
    const button = this.$('[data-action="local-record"]');
    const allowed = Boolean(this.room?.canRecordLocally);
    button.hidden = !allowed && !this.room?.localRecording;
  }

  _tile(participantId, name, self = false) {
    let tile = this._tiles.get(participantId);
    if (!tile) {
      tile = document.createElement("div");
      tile.className = self ? "tile self" : "tile remote";
      tile.dataset.participantId = participantId;
      const video = document.createElement("video");
      Object.assign(video, { autoplay: true, playsInline: true, muted: true });
      const label = document.createElement("span");
      label.className = "label";
      tile.append(video, label);
      this.$('[data-role="grid"]').append(tile);
      this._tiles.set(participantId, tile);
    }
    tile.querySelector(".label").textContent = self ? `${name} (you)` : name;
    this._renderPeople();
    return tile;
  }

  _dropTile(participantId) {
    this._tiles.get(participantId)?.remove();
    this._tiles.delete(participantId);
    this.$(`[data-role="screens"] [data-participant-id="${CSS.escape(participantId)}"]`)?.remove();
    this._renderPeople();
  }

  _attach({ participantId, source, track }) {
    const p = this.room.participants.get(participantId);
    if (source === "screen" && track.kind === "video") {
      const video = document.createElement("video");
      Object.assign(video, { autoplay: true, playsInline: true, muted: true, srcObject: new MediaStream([track]) });
      video.dataset.participantId = participantId;
      video.dataset.source = "screen";
      this.$('[data-role="screens"]').append(video);
      this._watchSize(video);
      return;
    }
    const tile = this._tile(participantId, p?.displayName ?? "…");
    if (track.kind === "video") {
      const video = tile.querySelector("video");
      video.srcObject = new MediaStream([track]);
      this._watchSize(video);
    } else {
      const audio = document.createElement("audio");
      audio.autoplay = true;
      audio.dataset.source = source;
      audio.srcObject = new MediaStream([track]);
      tile.append(audio);
    }
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
      this.$(`[data-role="screens"] [data-participant-id="${CSS.escape(participantId)}"]`)?.remove();
      return;
    }
    const tile = this._tiles.get(participantId);
    if (!tile) return;
    if (track?.kind === "video") tile.querySelector("video").srcObject = null;
    else tile.querySelectorAll("audio").forEach((a) => a.srcObject?.getTracks().includes(track) && a.remove());
  }

  _renderPeople() {
    const room = this.room;
    const list = this.$('[data-role="people"]');
    if (!room) return;
    const waiting = room.isHost
      ? [...room.waiting.values()].map((p) => {
          const li = document.createElement("li");
          li.dataset.participantId = p.id;
          li.dataset.state = "waiting";
          const name = document.createElement("span");
          name.textContent = `${p.displayName} (waiting)`;
          li.append(name);
          for (const [action, label] of [["admit-participant", "Admit"], ["deny-participant", "Deny"]]) {
            const b = document.createElement("button");
            b.dataset.action = action;
            b.textContent = label;
            li.append(b);
          }
          return li;
        })
      : [];
    list.replaceChildren(
      ...waiting,
      ...[...room.participants.values()].map((p) => {
        const li = document.createElement("li");
        li.dataset.participantId = p.id;
        const name = document.createElement("span");
        name.textContent = `${p.displayName}${p.id === room.me.id ? " (you)" : ""}${p.audioMuted ? " 🔇" : ""}`;
        li.append(name);
        if (p.recordingLocally) name.textContent += " ● rec";
        if (room.isHost && p.id !== room.me.id) {
          const actions = [["mute-participant", "Mute"], ["remove-participant", "Remove"]];
          if (!["HOST", "COHOST"].includes(p.role) && !room.allowLocalRecording) {
            actions.push(p.localRecordingGranted ? ["deny-recording", "Disallow recording"] : ["allow-recording", "Allow recording"]);
          }
          for (const [action, label] of actions) {
            const b = document.createElement("button");
            b.dataset.action = action;
            b.textContent = label;
            b.disabled = action === "mute-participant" && p.audioMuted;
            li.append(b);
          }
        }
        return li;
      }),
    );
  }

  _syncButtons() {
    const room = this.room;
    const mic = this.$('[data-action="mic"]');
    mic.setAttribute("aria-pressed", String(!room.micEnabled));
    mic.textContent = room.micEnabled ? "Mute" : "Unmute";
    const cam = this.$('[data-action="camera"]');
    cam.setAttribute("aria-pressed", String(!room.cameraEnabled));
    cam.textContent = room.cameraEnabled ? "Stop video" : "Start video";
    const share = this.$('[data-action="share"]');
    share.setAttribute("aria-pressed", String(room.sharing));
    share.textContent = room.sharing ? "Stop sharing" : "Share screen";
  }

  async _onClick(ev) {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    const room = this.room;
    const pid = button.closest("[data-participant-id]")?.dataset.participantId;
    try {
      switch (button.dataset.action) {
        case "join":
        case "rejoin":
          this._tiles.forEach((t) => t.remove());
          this._tiles.clear();
          this.$('[data-role="screens"]').replaceChildren();
          await this.join();
          break;
        case "mic":
          await room.setMicEnabled(!room.micEnabled);
          break;
        case "camera":
          await room.setCameraEnabled(!room.cameraEnabled);
          break;
        case "share":
          await (room.sharing ? room.stopScreenShare() : room.shareScreen());
          break;
        case "captions":
          {
            const box = this.$('[data-role="captions"]');
            box.hidden = !box.hidden;
            button.setAttribute("aria-pressed", String(!box.hidden));
          }
          break;
        case "people":
        case "chat":
          {
            const panel = this.$(`[data-panel="${button.dataset.action}"]`);
            panel.hidden = !panel.hidden;
          }
          break;
        case "local-record":
          if (room.localRecording) await room.stopLocalRecording();
          else await room.startLocalRecording({ tiles: () => this._recordingTiles() });
          break;
        case "leave":
          await room.leave();
          break;
        case "invite":
          {
            const link = await room.inviteLink();
            const notice = this.$('[data-role="notice"]');
            notice.textContent = `Invite link: ${link}`; // text, never HTML
            notice.hidden = false;
            await navigator.clipboard?.writeText(link).catch(() => {}); // not in insecure contexts: shown anyway
          }
          break;
        case "mute-participant":
          await room.muteParticipant(pid);
          break;
        case "admit-participant":
          await room.admitParticipant(pid);
          break;
        case "deny-participant":
          await room.denyParticipant(pid);
          break;
        case "remove-participant":
          await room.removeParticipant(pid, { allowRejoin: this.$('[data-role="allow-rejoin"]').checked });
          break;
        case "allow-recording":
        case "deny-recording":
          await room.allowLocalRecordingFor(pid, button.dataset.action === "allow-recording");
          break;
      }
    } catch (err) {
      this._error(err);
    } finally {
      if (room) {
        this._syncButtons();
        this._syncRecordButton();
      }
    }
  }

  // What the page shows: screen shares first, then the grid's tiles, each with its label.
  _recordingTiles() {
    const screens = [...this.$('[data-role="screens"]').querySelectorAll("video")].map((video) => ({
      video,
      label: `${this.room.participants.get(video.dataset.participantId)?.displayName ?? ""} (screen)`,
    }));
    const tiles = [...this._tiles.values()].map((tile) => ({ video: tile.querySelector("video"), label: tile.querySelector(".label").textContent }));
    return [...screens, ...tiles];
  }

  _finish(text) {
    this.$('[data-role="left-text"]').textContent = text;
    this._show("left");
    this._tiles.forEach((t) => t.remove());
    this._tiles.clear();
    this._preview?.getTracks().forEach((t) => t.stop());
    this._preview = null;
  }

  _show(page) {
    for (const el of this.shadowRoot.querySelectorAll("[data-page]")) el.hidden = el.dataset.page !== page;
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
