// <mm-invite>: what to send people: the invite link (its key stands in for the passcode), the number, the
// passcode, and a ready invitation text, each copyable.
import { LitElement, html, nothing } from "lit";
import { copyText } from "./clipboard.js";
import { icon } from "./icons.js";
import { describeRule } from "./recurrence.js";
import { formatWhen } from "./time.js";
import { t } from "../i18n/index.js";

export function invitationText(m, host) {
  const when = m.kind === "INSTANT" ? t("invite.bodyNow") : formatWhen(m.startsAt, m.timezone) + (m.recurrence ? `\n${describeRule(m.recurrence)}` : "");
  return t("invite.body", { host, title: m.title, when, link: m.inviteLink, number: m.numberDisplay, passcode: m.passcode || t("invite.noPasscode") });
}

export class InviteDialog extends LitElement {
  static properties = { meeting: { attribute: false }, hostName: { attribute: false }, _status: { state: true } };

  createRenderRoot() {
    return this;
  }

  open(meeting) {
    this.meeting = meeting;
    this._status = "";
    this.updateComplete.then(() => this.querySelector("dialog").showModal());
  }

  async _copy(text) {
    this._status = (await copyText(text)) ? t("invite.copied") : t("invite.copyFailed");
  }

  render() {
    const m = this.meeting;
    if (!m) return html`<dialog aria-label=${t("invite.title")}></dialog>`;
    const text = invitationText(m, this.hostName || "");
    return html`
      <dialog aria-labelledby="invite-title">
        <form method="dialog">
          <h2 id="invite-title">${icon("user-plus")} ${t("invite.title")}</h2>
          <p><strong>${m.title}</strong></p>
          <label>${t("invite.link")} <input readonly data-role="invite-link" .value=${m.inviteLink} @focus=${(e) => e.target.select()}></label>
          <div class="grid-2">
            <p>${t("invite.number")}<br><strong class="mono" data-role="invite-number">${m.numberDisplay}</strong></p>
            <p>${t("invite.passcode")}<br><strong class="mono" data-role="invite-passcode">${m.passcode || t("invite.noPasscode")}</strong></p>
          </div>
          <label>${t("invite.text")} <textarea class="invitation" readonly data-role="invite-text" .value=${text}></textarea></label>
          <p class="small" role="status" aria-live="polite" data-role="copy-status">${this._status || nothing}</p>
          <div class="dialog-actions">
            <button type="button" data-action="copy-link" @click=${() => this._copy(m.inviteLink)}>${icon("link")} ${t("invite.copyLink")}</button>
            <button type="button" data-action="copy-invitation" class="btn-primary" @click=${() => this._copy(text)}>${icon("copy")} ${t("invite.copyText")}</button>
            <button value="close">${t("dialog.close")}</button>
          </div>
        </form>
      </dialog>`;
  }
}
customElements.define("mm-invite", InviteDialog);
