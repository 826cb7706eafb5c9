// <mm-home>: the landing page. Signed out: sign in / create account, and join by number. Signed in: start a
// meeting now, schedule one, upcoming meetings (start, invite, edit, cancel), past meetings, recordings.
import { LitElement, html, nothing } from "lit";
import { gql, localPath, saveSession, signOut } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { icon } from "./icons.js";
import { describeRule } from "./recurrence.js";
import { currentTheme, toggleTheme } from "./theme.js";
import { formatWhen } from "./time.js";
import { MEETING_FIELDS } from "./schedule.js";
import "./schedule.js";
import "./invite.js";
import "./recordings.js";
import { LANGUAGES, errorText, lang, setLanguage, t } from "../i18n/index.js";

const AUTH = "accessToken refreshToken user { id displayName email }";
const LOG_IN = `mutation($i: LogInInput!) { logIn(input: $i) { ${AUTH} } }`;
const SIGN_UP = `mutation($i: SignUpInput!) { signUp(input: $i) { ${AUTH} } }`;
// Single sign-on (docs/sso.md): the server sends the browser back to /#sso_ticket=… (traded for tokens here) or
// /#sso_error=CODE&sso_message=….
const REDEEM_SSO = `mutation($t: String!) { redeemSsoTicket(ticket: $t) { ${AUTH} } }`;
const SSO_PROVIDERS = `{ ssoProviders { name label } }`;
const HOME = `query Home { me { id displayName email } upcoming: myMeetings(filter: UPCOMING, first: 20) { items { ${MEETING_FIELDS} } } past: myMeetings(filter: PAST, first: 20) { items { ${MEETING_FIELDS} } } }`;
const INSTANT = `mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { inviteLink } }`;
const CANCEL = `mutation($id: ID!) { cancelMeeting(id: $id) { id title } }`;

export class Home extends LitElement {
  static properties = {
    _me: { state: true },
    _upcoming: { state: true },
    _past: { state: true },
    _mode: { state: true },
    _error: { state: true },
    _message: { state: true },
    _busy: { state: true },
    _theme: { state: true },
    _recordingsOf: { state: true },
    _sso: { state: true },
  };

  createRenderRoot() {
    return this;
  }

  constructor() {
    super();
    this._mode = "signIn";
    this._me = undefined; // undefined: not known yet; null: signed out
    this._theme = currentTheme();
  }

  connectedCallback() {
    super.connectedCallback();
    document.documentElement.lang = lang;
    this.load();
  }

  /** A company sign-in coming back in the URL fragment: trade its ticket, or show why it failed. */
  async _ssoReturn() {
    const back = new URLSearchParams(location.hash.slice(1));
    if (!back.has("sso_ticket") && !back.has("sso_error")) return;
    history.replaceState(null, "", location.pathname + location.search); // the ticket works once: drop it
    if (back.has("sso_error")) {
      const err = { code: back.get("sso_error"), errors: [{ message: back.get("sso_message") || "" }] };
      this._error = errorText(err, "sso");
      return;
    }
    try {
      saveSession((await gql.request(REDEEM_SSO, { t: back.get("sso_ticket") })).redeemSsoTicket);
    } catch (err) {
      this._error = errorText(err, "sso");
    }
  }

  async load() {
    await this._ssoReturn();
    if (!gql.token) {
      this._me = null;
      try {
        this._sso = (await gql.request(SSO_PROVIDERS)).ssoProviders;
      } catch {
        this._sso = []; // an older server, or a network blip: the password form still works
      }
      return;
    }
    try {
      const data = await gql.request(HOME);
      this._me = data.me;
      this._upcoming = data.upcoming.items;
      this._past = data.past.items;
      this._recordingsOf = [...this._upcoming, ...this._past]; // a new array only when reloaded: the list refetches
    } catch (err) {
      if (err.code === "UNAUTHENTICATED") {
        await signOut();
        this._me = null;
        this._error = t("error.signedOut");
      } else this._error = errorText(err);
    }
  }

  async _auth(ev) {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const email = String(form.get("email")).trim(), password = String(form.get("password"));
    this._busy = true;
    this._error = "";
    try {
      const auth =
        this._mode === "signIn"
          ? (await gql.request(LOG_IN, { i: { email, password } })).logIn
          : (await gql.request(SIGN_UP, { i: { email, password, displayName: String(form.get("name")).trim() } })).signUp;
      saveSession(auth);
      this._message = "";
      await this.load();
    } catch (err) {
      this._error = errorText(err, this._mode === "signIn" ? "logIn" : "signUp");
    } finally {
      this._busy = false;
    }
  }

  async _signOut() {
    await signOut();
    this._me = null;
    this._mode = "signIn";
    this._upcoming = this._past = undefined;
    this._message = this._error = "";
  }

  _join(ev) {
    ev.preventDefault();
    const number = String(new FormData(ev.target).get("number")).replace(/[^0-9]/g, "");
    if (number.length !== 11) {
      this._error = t("join.badNumber");
      return;
    }
    location.href = `/m/${number}`;
  }

  async _startNow() {
    this._busy = true;
    try {
      const m = (await gql.request(INSTANT, { i: { title: t("schedule.defaultName", { name: this._me.displayName }) } })).createMeeting;
      location.href = localPath(m.inviteLink); // the address bar then holds what to share
    } catch (err) {
      this._error = errorText(err);
      this._busy = false;
    }
  }

  async _cancel(m) {
    if (!(await confirmDialog(t("meeting.cancelConfirm", { title: m.title }), t("meeting.cancel")))) return;
    try {
      await gql.request(CANCEL, { id: m.id });
      this._message = t("meeting.cancelled", { title: m.title });
      await this.load();
    } catch (err) {
      this._error = errorText(err);
    }
  }

  async _saved(ev) {
    const { meeting, created } = ev.detail;
    this._message = t(created ? "schedule.saved" : "schedule.updated", { title: meeting.title });
    await this.load();
  }

  _topbar() {
    return html`<header class="topbar">
      <a class="brand" href="/">${icon("video")} ${t("app.name")}</a>
      <label class="visually-hidden" for="lang">${t("lang.label")}</label>
      <select id="lang" style="width:auto" @change=${async (e) => { await setLanguage(e.target.value); location.reload(); }}>
        ${Object.entries(LANGUAGES).map(([code, name]) => html`<option value=${code} ?selected=${code === lang}>${name}</option>`)}
      </select>
      <button class="btn-icon btn-ghost" data-action="theme" aria-label=${t("theme.toggle")} aria-pressed=${this._theme === "dark" ? "true" : "false"}
        @click=${() => (this._theme = toggleTheme())}>${icon(this._theme === "dark" ? "sun" : "moon")}</button>
      ${this._me
        ? html`<span class="small muted" data-role="me">${t("nav.signedInAs", { name: this._me.displayName })}</span>
            <button data-action="sign-out" @click=${this._signOut}>${icon("log-out")} ${t("nav.signOut")}</button>`
        : nothing}
    </header>`;
  }

  _alerts() {
    return html`${this._message ? html`<p class="alert alert-success" role="status" data-role="message">${this._message}</p>` : nothing}
      ${this._error ? html`<p class="alert alert-error" role="alert" data-role="error">${this._error}</p>` : nothing}`;
  }

  _joinCard() {
    return html`<section class="card" aria-labelledby="join-title">
      <h2 id="join-title">${icon("log-in")} ${t("join.title")}</h2>
      <form class="row" @submit=${this._join}>
        <label style="flex:1 1 12rem">${t("join.number")} <input name="number" inputmode="numeric" autocomplete="off" placeholder="123 4567 8901"></label>
        <button class="btn-primary" style="align-self:flex-end">${t("join.go")}</button>
      </form>
    </section>`;
  }

  _authCard() {
    const signIn = this._mode === "signIn";
    return html`<section class="card" aria-labelledby="auth-title">
      <h2 id="auth-title">${t(signIn ? "auth.signInTitle" : "auth.signUpTitle")}</h2>
      <form class="stack" @submit=${this._auth} data-form=${this._mode}>
        ${signIn ? nothing : html`<label>${t("auth.name")} <input name="name" required autocomplete="name"></label>`}
        <label>${t("auth.email")} <input name="email" type="email" required autocomplete="username"></label>
        <label>${t("auth.password")} <input name="password" type="password" required minlength="8" autocomplete=${signIn ? "current-password" : "new-password"}></label>
        <div class="row">
          <button class="btn-primary" data-action=${signIn ? "sign-in" : "sign-up"} ?disabled=${this._busy}>${icon(signIn ? "log-in" : "user-plus")} ${t(signIn ? "auth.signIn" : "auth.signUp")}</button>
          <button type="button" class="btn-ghost" data-action="switch-auth" @click=${() => { this._mode = signIn ? "signUp" : "signIn"; this._error = ""; }}>
            ${t(signIn ? "auth.toSignUp" : "auth.toSignIn")}</button>
        </div>
      </form>
    </section>`;
  }

  _ssoCard() {
    if (!this._sso?.length) return nothing;
    // A plain GET form: the browser itself goes to the server, which sends it on to the company's provider.
    return html`<section class="card" aria-labelledby="sso-title">
      <h2 id="sso-title">${icon("building")} ${t("auth.ssoTitle")}</h2>
      <form class="row" method="get" action="/auth/sso/start" data-form="sso">
        <label style="flex:1 1 14rem">${t("auth.email")} <input name="email" type="email" required autocomplete="username"
          aria-describedby="sso-hint"></label>
        <button class="btn-primary" style="align-self:flex-end" data-action="sso">${icon("log-in")} ${t("auth.ssoGo")}</button>
      </form>
      <p class="small muted" id="sso-hint">${t("auth.ssoHint")}</p>
    </section>`;
  }

  _meetingItem(m, upcoming) {
    const host = m.myRole === "HOST" || m.myRole === "COHOST";
    return html`<li data-meeting=${m.number}>
      <div class="what">
        <strong data-role="meeting-title">${m.title}</strong>
        ${m.status === "LIVE" ? html`<span class="badge badge-live">${t("home.live")}</span>` : nothing}<br>
        <span class="small muted">${formatWhen(upcoming && m.nextOccurrences?.[0] ? m.nextOccurrences[0] : m.startedAt || m.startsAt, m.timezone)} · ${t("meeting.minutes", { n: m.durationMinutes })}</span>
        ${m.recurrence ? html`<br><span class="small" data-role="recurrence">${icon("repeat")} ${describeRule(m.recurrence)}</span>` : nothing}
        <br><span class="small muted mono">${m.numberDisplay}</span>
      </div>
      ${upcoming
        ? html`<div class="actions">
            <a class="btn btn-primary" href=${localPath(m.inviteLink)} data-action="start">${icon("video")} ${t(host ? "meeting.start" : "meeting.join")}</a>
            ${host
              ? html`<button data-action="invite" @click=${() => this.querySelector("mm-invite").open(m)}>${icon("user-plus")} ${t("meeting.invite")}</button>
                  <button data-action="edit" @click=${() => this.querySelector("mm-schedule").open(m)}>${icon("pencil")} ${t("meeting.edit")}</button>
                  ${m.status === "SCHEDULED" ? html`<button class="btn-danger" data-action="cancel" @click=${() => this._cancel(m)}>${icon("x")} ${t("meeting.cancel")}</button>` : nothing}`
              : nothing}
          </div>`
        : html`<div class="actions">
            <a href=${`/d/${encodeURIComponent(m.id)}`} data-action="documents">${icon("notebook-pen")} ${t("home.documents")}</a>
          </div>`}
    </li>`;
  }

  _signedIn() {
    const upcoming = this._upcoming, past = this._past;
    const list = (items, isUpcoming, empty) =>
      items === undefined
        ? html`<p class="muted">${t("home.loading")}</p>`
        : items.length
          ? html`<ul class="list" data-role=${isUpcoming ? "upcoming" : "past"}>${items.map((m) => this._meetingItem(m, isUpcoming))}</ul>`
          : html`<p class="muted">${empty}</p>`;
    return html`
      <div class="row">
        <button class="btn-primary" data-action="start-now" ?disabled=${this._busy} @click=${this._startNow}>${icon("video")} ${t("home.newMeeting")}</button>
        <button data-action="schedule" @click=${() => this.querySelector("mm-schedule").open()}>${icon("calendar-plus")} ${t("home.schedule")}</button>
      </div>
      <section class="card" aria-labelledby="upcoming-title">
        <h2 id="upcoming-title">${icon("calendar")} ${t("home.upcoming")}</h2>
        ${list(upcoming, true, t("home.noUpcoming"))}
      </section>
      ${this._joinCard()}
      <section class="card" aria-labelledby="recordings-title">
        <h2 id="recordings-title">${icon("film")} ${t("home.recordings")}</h2>
        <mm-recordings .meetings=${this._recordingsOf || []}></mm-recordings>
      </section>
      <section class="card" aria-labelledby="past-title">
        <h2 id="past-title">${icon("clock")} ${t("home.past")}</h2>
        ${list(past, false, t("home.noPast"))}
      </section>
      <mm-schedule .hostName=${this._me.displayName} @saved=${this._saved}></mm-schedule>
      <mm-invite .hostName=${this._me.displayName}></mm-invite>`;
  }

  render() {
    return html`${this._topbar()}
      <main class="page stack" id="main">
        <h1 class=${this._me ? "visually-hidden" : ""}>${this._me ? t("app.name") : t("app.tagline")}</h1>
        ${this._alerts()}
        ${this._me === undefined
          ? this._error
            ? html`<button data-action="retry" @click=${() => { this._error = ""; this.load(); }}>${icon("repeat")} ${t("home.retry")}</button>`
            : html`<p class="muted">${t("home.loading")}</p>`
          : this._me ? this._signedIn() : html`${this._authCard()} ${this._ssoCard()} ${this._joinCard()}`}
      </main>`;
  }
}
customElements.define("mm-home", Home);
