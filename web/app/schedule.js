// <mm-schedule>: the schedule / edit form in a modal dialog: title, date, time, time zone, duration, a repeat
// editor that writes an RRULE and says it in words, passcode and the meeting's settings. Fires "saved"
// ({detail: meeting}) after createMeeting / updateMeeting succeeded.
import { LitElement, html, nothing } from "lit";
import { gql } from "./api.js";
import { icon } from "./icons.js";
import { buildRule, dayName, describeRule, parseRule, WEEKDAYS } from "./recurrence.js";
import { localZone, utcToZoned, zonedToUtc, zones } from "./time.js";
import { errorText, t } from "../i18n/index.js";

export const MEETING_FIELDS =
  "id number numberDisplay title description status kind startsAt durationMinutes timezone recurrence hasPasscode passcode inviteLink myRole nextOccurrences(count: 3) settings { waitingRoom joinBeforeHost muteOnEntry allowGuests maxParticipants autoRecord }";
const CREATE = `mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { ${MEETING_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { ${MEETING_FIELDS} } }`;
const DURATIONS = [15, 30, 45, 60, 90, 120, 180, 240];

function randomPasscode() {
  const digits = crypto.getRandomValues(new Uint32Array(1))[0] % 1_000_000;
  return String(digits).padStart(6, "0");
}

function nextHalfHour() {
  const d = new Date(Date.now() + 30 * 60_000);
  d.setMinutes(d.getMinutes() < 30 ? 30 : 60, 0, 0);
  return d;
}

export class ScheduleDialog extends LitElement {
  static properties = { meeting: { attribute: false }, hostName: { attribute: false }, _form: { state: true }, _error: { state: true }, _busy: { state: true } };

  createRenderRoot() {
    return this; // light DOM: the design system's styles apply
  }

  /** Open for a new meeting (no argument) or to edit `meeting`. */
  open(meeting = null) {
    this.meeting = meeting;
    const zone = meeting?.timezone || localZone();
    const when = utcToZoned(meeting?.startsAt || nextHalfHour().toISOString(), zone);
    const s = meeting?.settings || { waitingRoom: true, joinBeforeHost: false, muteOnEntry: false, allowGuests: true, maxParticipants: 100, autoRecord: false };
    const repeat = parseRule(meeting?.recurrence);
    this._form = {
      title: meeting?.title ?? t("schedule.defaultName", { name: this.hostName || "" }).trim(),
      description: meeting?.description ?? "",
      date: when.date,
      time: when.time,
      zone,
      duration: meeting?.durationMinutes ?? 60,
      repeat: repeat ?? parseRule(""),
      customRule: repeat ? null : meeting.recurrence, // a rule the editor cannot show stays as it is
      passcode: meeting ? meeting.passcode ?? "" : randomPasscode(),
      ...s,
    };
    this._error = "";
    this.updateComplete.then(() => this.querySelector("dialog").showModal());
  }

  _set(key, value) {
    this._form = { ...this._form, [key]: value };
  }

  _setRepeat(key, value) {
    this._form = { ...this._form, customRule: null, repeat: { ...this._form.repeat, [key]: value } };
  }

  _rule() {
    return this._form.customRule ?? buildRule(this._form.repeat);
  }

  async _submit(ev) {
    ev.preventDefault();
    const f = this._form;
    if (!f.date || !f.time) {
      this._error = t("schedule.whenInvalid");
      return;
    }
    const input = {
      title: f.title.trim(),
      description: f.description,
      startsAt: zonedToUtc(f.date, f.time, f.zone).toISOString(),
      durationMinutes: Number(f.duration),
      timezone: f.zone,
      recurrence: this._rule(),
      passcode: f.passcode.trim(),
      settings: {
        waitingRoom: f.waitingRoom,
        joinBeforeHost: f.joinBeforeHost,
        muteOnEntry: f.muteOnEntry,
        allowGuests: f.allowGuests,
        maxParticipants: Number(f.maxParticipants),
        autoRecord: f.autoRecord,
      },
    };
    // Setting the passcode, even to the same value, retires the invite links already sent: only when changed.
    if (this.meeting && input.passcode === (this.meeting.passcode ?? "")) delete input.passcode;
    this._busy = true;
    try {
      const meeting = this.meeting
        ? (await gql.request(UPDATE, { id: this.meeting.id, i: input })).updateMeeting
        : (await gql.request(CREATE, { i: { ...input, recurrence: input.recurrence || null } })).createMeeting;
      this.querySelector("dialog").close();
      this.dispatchEvent(new CustomEvent("saved", { detail: { meeting, created: !this.meeting } }));
    } catch (err) {
      this._error = errorText(err, "schedule");
    } finally {
      this._busy = false;
    }
  }

  render() {
    const f = this._form;
    if (!f) return html`<dialog aria-label=${t("schedule.title")}></dialog>`;
    const r = f.repeat;
    const check = (key, label) => html`<label class="check"><input type="checkbox" name=${key} .checked=${f[key]} @change=${(e) => this._set(key, e.target.checked)}> ${label}</label>`;
    return html`
      <dialog aria-labelledby="schedule-title" @close=${() => (this._error = "")}>
        <form @submit=${this._submit} novalidate>
          <h2 id="schedule-title">${icon("calendar-plus")} ${this.meeting ? t("schedule.editTitle") : t("schedule.title")}</h2>
          <label>${t("schedule.name")} <input name="title" required maxlength="200" .value=${f.title} @input=${(e) => this._set("title", e.target.value)}></label>
          <div class="grid-2">
            <label>${t("schedule.date")} <input name="date" type="date" required .value=${f.date} @input=${(e) => this._set("date", e.target.value)}></label>
            <label>${t("schedule.time")} <input name="time" type="time" required .value=${f.time} @input=${(e) => this._set("time", e.target.value)}></label>
            <label>${t("schedule.timezone")}
              <select name="timezone" @change=${(e) => this._set("zone", e.target.value)}>
                ${zones().map((z) => html`<option ?selected=${z === f.zone}>${z}</option>`)}
              </select></label>
            <label>${t("schedule.duration")}
              <select name="duration" @change=${(e) => this._set("duration", Number(e.target.value))}>
                ${[...new Set([...DURATIONS, f.duration])].sort((a, b) => a - b).map((m) => html`<option value=${m} ?selected=${m === f.duration}>${m < 60 || m % 60 ? t("schedule.durationMinutes", { n: m }) : t("schedule.durationHours", { n: m / 60 })}</option>`)}
              </select></label>
          </div>
          <fieldset class="repeat">
            <legend>${t("recur.legend")}</legend>
            <div class="grid-2">
              <label>${t("recur.freq")}
                <select name="freq" @change=${(e) => this._setRepeat("freq", e.target.value)}>
                  ${["NONE", "DAILY", "WEEKLY", "MONTHLY"].map((v) => html`<option value=${v} ?selected=${r.freq === v && !f.customRule}>${t(`recur.${v.toLowerCase()}`)}</option>`)}
                  ${f.customRule ? html`<option selected value="">${describeRule(f.customRule)}</option>` : nothing}
                </select></label>
              ${r.freq !== "NONE" && !f.customRule
                ? html`<label>${t("recur.interval")} (${t(`recur.unit.${r.freq}`)})
                    <input name="interval" type="number" min="1" max="99" .value=${String(r.interval)} @input=${(e) => this._setRepeat("interval", e.target.value)}></label>`
                : nothing}
            </div>
            ${r.freq === "WEEKLY" && !f.customRule
              ? html`<fieldset class="weekdays"><legend>${t("recur.on")}</legend><div class="row">
                  ${WEEKDAYS.map((d) => html`<label class="check"><input type="checkbox" name="day-${d}" .checked=${r.days.includes(d)}
                      @change=${(e) => this._setRepeat("days", e.target.checked ? [...r.days, d] : r.days.filter((x) => x !== d))}>
                      <span title=${dayName(d)}>${dayName(d, "short")}</span></label>`)}
                </div></fieldset>`
              : nothing}
            ${r.freq !== "NONE" && !f.customRule
              ? html`<div class="grid-2">
                  <label>${t("recur.ends")}
                    <select name="ends" @change=${(e) => this._setRepeat("ends", e.target.value)}>
                      <option value="NEVER" ?selected=${r.ends === "NEVER"}>${t("recur.never")}</option>
                      <option value="COUNT" ?selected=${r.ends === "COUNT"}>${t("recur.after")} … ${t("recur.occurrences")}</option>
                      <option value="UNTIL" ?selected=${r.ends === "UNTIL"}>${t("recur.onDate")}</option>
                    </select></label>
                  ${r.ends === "COUNT" ? html`<label>${t("recur.count")} <input name="count" type="number" min="1" max="1000" .value=${String(r.count)} @input=${(e) => this._setRepeat("count", e.target.value)}></label>` : nothing}
                  ${r.ends === "UNTIL" ? html`<label>${t("recur.onDate")} <input name="until" type="date" .value=${r.until} @input=${(e) => this._setRepeat("until", e.target.value)}></label>` : nothing}
                </div>`
              : nothing}
            <p class="muted small" data-role="repeat-summary" aria-live="polite">${describeRule(this._rule())}</p>
          </fieldset>
          <fieldset>
            <legend>${t("schedule.security")}</legend>
            <label>${t("schedule.passcode")} <input name="passcode" maxlength="10" autocomplete="off" .value=${f.passcode} @input=${(e) => this._set("passcode", e.target.value)} aria-describedby="passcode-hint"></label>
            <p id="passcode-hint" class="muted small">${t("schedule.passcodeHint")}</p>
            ${check("waitingRoom", t("schedule.waitingRoom"))}
            ${check("allowGuests", t("schedule.allowGuests"))}
          </fieldset>
          <fieldset>
            <legend>${t("schedule.options")}</legend>
            ${check("joinBeforeHost", t("schedule.joinBeforeHost"))}
            ${check("muteOnEntry", t("schedule.muteOnEntry"))}
            ${check("autoRecord", t("schedule.autoRecord"))}
            <label>${t("schedule.maxParticipants")} <input name="maxParticipants" type="number" min="2" max="1000" .value=${String(f.maxParticipants)} @input=${(e) => this._set("maxParticipants", e.target.value)}></label>
          </fieldset>
          <label>${t("schedule.description")} <textarea name="description" rows="2" .value=${f.description} @input=${(e) => this._set("description", e.target.value)}></textarea></label>
          ${this._error ? html`<p class="alert alert-error" role="alert" data-role="error">${this._error}</p>` : nothing}
          <div class="dialog-actions">
            <button type="button" @click=${() => this.querySelector("dialog").close()}>${t("dialog.cancel")}</button>
            <button type="submit" class="btn-primary" data-action="save-meeting" ?disabled=${this._busy}>${this.meeting ? t("schedule.save") : t("schedule.create")}</button>
          </div>
        </form>
      </dialog>`;
  }
}
customElements.define("mm-schedule", ScheduleDialog);
