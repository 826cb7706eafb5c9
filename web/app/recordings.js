// <mm-recordings>: the cloud recordings of the meetings you host or attended, newest first: status and
// processing progress, play (the /r/ player), rename, share link, download, delete. `meetings` is the list of
// meetings to look in; their recordings come in one request (one aliased field per meeting).
import { LitElement, html, nothing } from "lit";
import { gql } from "./api.js";
import { copyText } from "./clipboard.js";
import { confirmDialog, promptDialog } from "./dialogs.js";
import { icon } from "./icons.js";
import { formatDate, formatDuration } from "./time.js";
import { errorText, t } from "../i18n/index.js";

const RECORDING = "id meetingId title status progress startedAt recordedSeconds error media { name url }";
const RENAME = `mutation($id: ID!, $t: String!) { renameRecording(id: $id, title: $t) { ${RECORDING} } }`;
const DELETE = `mutation($id: ID!) { deleteRecording(id: $id) }`;
const SHARE = `mutation($id: ID!) { shareRecording(id: $id) { url expiresAt } }`;
export const CHUNK = 10;
const BUSY = new Set(["RECORDING", "PAUSED", "STOPPED", "PROCESSING"]);

/** The query for `n` meetings' recordings (built, not a literal: its size depends on n). */
export function recordingsDocument(n) {
  const ids = Array.from({ length: n }, (_, i) => i);
  return "query Recordings(" + ids.map((i) => "$m" + i + ": ID!").join(", ") + ") { " + ids.map((i) => "m" + i + ": recordings(meetingId: $m" + i + ") { " + RECORDING + " }").join(" ") + " }";
}

export class RecordingsList extends LitElement {
  static properties = { meetings: { attribute: false }, _items: { state: true }, _message: { state: true }, _error: { state: true }, _shared: { state: true } };

  createRenderRoot() {
    return this;
  }

  constructor() {
    super();
    this.meetings = [];
    this._items = null;
    this._timer = null;
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this._timer);
  }

  updated(changed) {
    if (changed.has("meetings")) this.load();
  }

  async load() {
    clearTimeout(this._timer);
    const meetings = this.meetings || [];
    if (!meetings.length) {
      this._items = [];
      return;
    }
    // One aliased field per meeting (`m0: recordings(meetingId: $m0) {…}`, GraphQL section 2.7), CHUNK meetings
    // per request so a document stays within the server's alias and token limits (api/graphql/document_limits.py;
    // tests/unit/api/test_document_limits.py checks this shape at CHUNK).
    try {
      const chunks = [];
      for (let i = 0; i < meetings.length; i += CHUNK) chunks.push(meetings.slice(i, i + CHUNK));
      const answers = await Promise.all(chunks.map((chunk) => gql.request(recordingsDocument(chunk.length), Object.fromEntries(chunk.map((m, i) => ["m" + i, m.id])))));
      const data = answers.flatMap((a) => Object.values(a));
      const byId = new Map(meetings.map((m) => [m.id, m]));
      this._items = data
        .flat()
        .map((r) => ({ ...r, meeting: byId.get(r.meetingId) }))
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      this._error = "";
      // While something is being recorded or processed, look again (bounded: stops once all are settled).
      if (this._items.some((r) => BUSY.has(r.status))) this._timer = setTimeout(() => this.load(), 3000);
    } catch (err) {
      this._error = errorText(err);
    }
  }

  async _rename(r) {
    const title = await promptDialog(t("rec.renameLabel"), r.title);
    if (!title || title === r.title) return;
    try {
      await gql.request(RENAME, { id: r.id, t: title });
      this._message = t("rec.renamed", { title });
      await this.load();
    } catch (err) {
      this._error = errorText(err);
    }
  }

  async _delete(r) {
    if (!(await confirmDialog(t("rec.deleteConfirm", { title: r.title }), t("rec.delete")))) return;
    try {
      await gql.request(DELETE, { id: r.id });
      this._message = t("rec.deleted", { title: r.title });
      await this.load();
    } catch (err) {
      this._error = errorText(err);
    }
  }

  async _share(r) {
    try {
      const link = (await gql.request(SHARE, { id: r.id })).shareRecording;
      this._shared = { recording: r, ...link, copied: await copyText(link.url) };
    } catch (err) {
      this._error = errorText(err);
    }
  }

  _status(r) {
    const label = t(`rec.status.${r.status}`, { n: r.progress });
    return html`<span class="badge ${r.status === "RECORDING" ? "badge-live" : ""}" data-role="recording-status">${label}</span>
      ${r.status === "PROCESSING" ? html`<progress max="100" .value=${r.progress} aria-label=${label}></progress>` : nothing}`;
  }

  render() {
    const items = this._items;
    return html`
      ${this._message ? html`<p class="alert alert-success" role="status">${this._message}</p>` : nothing}
      ${this._error ? html`<p class="alert alert-error" role="alert">${this._error}</p>` : nothing}
      ${this._shared
        ? html`<div class="alert" data-role="share-link">
            <p>${t("rec.shareHint", { date: formatDate(this._shared.expiresAt) })}</p>
            <label>${t("rec.shareTitle", { title: this._shared.recording.title })} <input readonly .value=${this._shared.url}></label>
            ${this._shared.copied ? html`<p class="small">${t("invite.copied")}</p>` : nothing}
          </div>`
        : nothing}
      ${items === null
        ? html`<p class="muted">${t("home.loading")}</p>`
        : items.length === 0
          ? html`<p class="muted">${t("home.noRecordings")}</p>`
          : html`<ul class="list" data-role="recordings">
              ${items.map((r) => {
                const mp4 = r.media.find((f) => f.name === "recording.mp4") || r.media.find((f) => f.name === "audio.m4a");
                return html`<li data-recording=${r.id}>
                  <div class="what">
                    <strong data-role="recording-title">${r.title}</strong> ${this._status(r)}<br>
                    <span class="muted small">${t("rec.of", { meeting: r.meeting?.title ?? "", date: formatDate(r.startedAt), duration: formatDuration(r.recordedSeconds) })}</span>
                    ${r.error ? html`<br><span class="small">${r.error}</span>` : nothing}
                  </div>
                  <div class="actions">
                    ${r.status === "READY" ? html`<a class="btn" href="/r/${r.id}" data-action="play">${icon("play")} ${t("rec.play")}</a>` : nothing}
                    <button data-action="rename" @click=${() => this._rename(r)}>${icon("pencil")} ${t("rec.rename")}</button>
                    ${r.status === "READY" ? html`<button data-action="share" @click=${() => this._share(r)}>${icon("share-2")} ${t("rec.share")}</button>` : nothing}
                    ${mp4 ? html`<a class="btn" href=${mp4.url} download data-action="download">${icon("download")} ${t("rec.download")}</a>` : nothing}
                    <button class="btn-danger" data-action="delete" aria-label="${t("rec.delete")}: ${r.title}" @click=${() => this._delete(r)}>${icon("trash-2")} ${t("rec.delete")}</button>
                  </div>
                </li>`;
              })}
            </ul>`}`;
  }
}
customElements.define("mm-recordings", RecordingsList);
