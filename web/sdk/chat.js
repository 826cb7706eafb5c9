// The chat panel's messages: replies, emoji reactions, edit and delete, search, file uploads with progress.
// Loaded by <meetmesh-room> once the meeting is joined (not needed to paint the pre-join page or the first
// tiles). User text is only ever set as text; links go through linkify (http(s) only, noopener).

import { errorText, t } from "../i18n/index.js";
import { formatBytes, h, linkify } from "./dom.js";

// The few emoji offered on a message before the full list arrives from the server (meetingReactions).
const QUICK = ["👍", "❤️", "😂", "🎉"];

export class ChatView {
  /** `el` is the <meetmesh-room> element: its shadow root holds the panel, its `room` the meeting. */
  constructor(el) {
    this.el = el;
    this.messages = new Map(); // id -> ChatMessage as last seen
    this.compose = null; // { mode: "reply" | "edit", id }
    this.reactingTo = null; // message id whose emoji row is open
    this.choices = QUICK;
    el.room
      ?.reactionChoices()
      .then((list) => (this.choices = list.length ? list : QUICK))
      .catch(() => {});
  }

  $(selector) {
    return this.el.shadowRoot.querySelector(selector);
  }

  get room() {
    return this.el.room;
  }

  clear() {
    this.messages.clear();
    this.compose = null;
    this.reactingTo = null;
    this.$('[data-role="chat-log"]').replaceChildren();
    this._renderCompose();
  }

  // ---- messages --------------------------------------------------------------------------------------------

  add(m, live) {
    if (this.messages.has(m.id)) return;
    this.messages.set(m.id, m);
    const log = this.$('[data-role="chat-log"]');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(this.node(m));
    const mine = m.senderId === this.room.me.id;
    if (atBottom || mine) log.scrollTop = log.scrollHeight;
    if (live && !mine && this.$('[data-panel="chat"]').hidden) this.el._chatUnread(m);
  }

  update(m) {
    this.messages.set(m.id, { ...(this.messages.get(m.id) ?? {}), ...m });
    this._rerender(m.id);
  }

  /** A CHAT_REACTION_CHANGED event: new totals for one message. */
  reactions(messageId, reactions) {
    const m = this.messages.get(messageId);
    if (!m) return;
    this.messages.set(messageId, { ...m, reactions });
    this._rerender(messageId);
  }

  _rerender(id) {
    const old = this.$(`[data-role="chat-log"] [data-message-id="${CSS.escape(id)}"]`);
    if (!old) return;
    // Keep the focus on the control that was used (re-rendering replaces the node).
    const focused = this.el.shadowRoot.activeElement;
    const key = old.contains(focused) ? [focused.dataset.action, focused.dataset.emoji] : null;
    const node = this.node(this.messages.get(id));
    old.replaceWith(node);
    if (key) node.querySelector(`[data-action="${key[0]}"]${key[1] ? `[data-emoji="${CSS.escape(key[1])}"]` : ""}`)?.focus();
  }

  node(m) {
    const room = this.room;
    const mine = m.senderId === room.me.id;
    const time = new Date(m.createdAt);
    const meta = h(
      "div",
      { class: "meta" },
      h("strong", { text: mine ? t("m.you", { name: m.senderName }) : m.senderName }),
      m.isPrivate ? h("span", { text: mine ? t("c.private", { name: m.recipientName ?? "" }) : t("c.privateFrom") }) : null,
      h("time", { datetime: m.createdAt, text: time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }),
      m.editedAt && !m.deleted ? h("span", { class: "edited", text: t("c.edited") }) : null,
    );
    const body = [];
    if (m.replyTo) {
      const quoted = m.replyTo.deleted ? t("c.deleted") : (m.replyTo.text ?? "");
      body.push(h("blockquote", { class: "reply-quote", dataset: { replyTo: m.replyTo.id } }, h("strong", { text: m.replyTo.senderName }), " ", quoted));
    }
    if (m.deleted) body.push(h("p", { class: "deleted", text: t("c.deleted") }));
    else {
      if (m.text) body.push(h("p", { class: "text" }, linkify(m.text)));
      const a = m.attachment;
      if (a) body.push(h("p", {}, h("a", { href: new URL(a.download.url, this.el.apiUrl).href, download: a.filename, rel: "noopener", target: "_blank" }, this.el._icon("paperclip"), " ", t("c.file", { name: a.filename, size: formatBytes(a.size) }))));
    }
    const reactions = m.deleted ? [] : (m.reactions ?? []);
    const row = reactions.length
      ? h(
          "div",
          { class: "msg-reactions" },
          reactions.map((r) => {
            const me = r.participantIds.includes(room.me.id);
            return h("button", { type: "button", class: "chip", dataset: { action: "chat-react", emoji: r.emoji }, "aria-pressed": String(me), "aria-label": t("c.reactionCount", { emoji: r.emoji, n: r.count }) }, `${r.emoji} ${r.count}`);
          }),
        )
      : null;
    const actions = [];
    if (!m.deleted) {
      const name = m.senderName;
      actions.push(h("button", { type: "button", class: "link-button", dataset: { action: "chat-reply" }, "aria-label": t("c.replyLabel", { name }) }, t("c.reply")));
      actions.push(h("button", { type: "button", class: "link-button", dataset: { action: "chat-react-menu" }, "aria-expanded": String(this.reactingTo === m.id), "aria-label": t("c.reactLabel", { name }) }, t("c.react")));
      if (mine && m.text) actions.push(h("button", { type: "button", class: "link-button", dataset: { action: "chat-edit" }, "aria-label": t("c.editLabel") }, t("c.edit")));
      // Your own messages (hosts: anyone's) can be deleted; they stay as "Message deleted" for everyone.
      if (mine || room.isHost) actions.push(h("button", { type: "button", class: "link-button", dataset: { action: "delete-message" }, "aria-label": t("c.deleteLabel", { name }) }, t("c.delete")));
    }
    const picker =
      this.reactingTo === m.id && !m.deleted
        ? h("div", { class: "emoji-row", role: "group", "aria-label": t("c.reactLabel", { name: m.senderName }) }, this.choices.map((emoji) => h("button", { type: "button", dataset: { action: "chat-react", emoji }, "aria-label": `${t("c.react")}: ${emoji}`, text: emoji })))
        : null;
    return h(
      "div",
      { class: m.isPrivate ? "msg private" : "msg", dataset: { messageId: m.id } },
      meta,
      body,
      row,
      actions.length ? h("div", { class: "msg-actions" }, actions) : null,
      picker,
    );
  }

  // ---- clicks (delegated by the element) ---------------------------------------------------------------

  /** Handle a chat action; returns false if `action` is not the chat's. */
  async click(action, button) {
    const id = button.closest("[data-message-id]")?.dataset.messageId;
    const m = id ? this.messages.get(id) : null;
    switch (action) {
      case "chat-reply":
        this.compose = { mode: "reply", id };
        this._renderCompose();
        this.$('[data-role="chat-input"]').focus();
        return true;
      case "chat-edit":
        this.compose = { mode: "edit", id };
        this.$('[data-role="chat-input"]').value = m?.text ?? "";
        this._renderCompose();
        this.$('[data-role="chat-input"]').focus();
        return true;
      case "cancel-compose":
        if (this.compose?.mode === "edit") this.$('[data-role="chat-input"]').value = "";
        this.compose = null;
        this._renderCompose();
        this.$('[data-role="chat-input"]').focus();
        return true;
      case "chat-react-menu":
        this.reactingTo = this.reactingTo === id ? null : id;
        this._rerender(id);
        if (this.reactingTo) this.$(`[data-message-id="${CSS.escape(id)}"] .emoji-row button`)?.focus();
        return true;
      case "chat-react": {
        const wasOpen = this.reactingTo === id;
        this.reactingTo = null;
        const updated = await this.room.toggleChatReaction(id, button.dataset.emoji);
        this.update(updated);
        if (wasOpen) this.$(`[data-message-id="${CSS.escape(id)}"] [data-action="chat-react-menu"]`)?.focus();
        return true;
      }
      case "delete-message":
        this.update(await this.room.deleteChatMessage(id));
        if (this.compose?.id === id) {
          this.compose = null;
          this._renderCompose();
        }
        return true;
      case "chat-hit":
        this.showMessage(button.dataset.hit);
        return true;
      case "close-search":
        this._closeSearch();
        return true;
    }
    return false;
  }

  /** Escape: close a message's emoji row, focus back on its React button. */
  closePicker() {
    const id = this.reactingTo;
    if (!id) return;
    this.reactingTo = null;
    this._rerender(id);
    this.$(`[data-message-id="${CSS.escape(id)}"] [data-action="chat-react-menu"]`)?.focus();
  }

  _renderCompose() {
    const box = this.$('[data-role="composer-context"]');
    const c = this.compose;
    const m = c ? this.messages.get(c.id) : null;
    box.hidden = !m;
    if (!m) return box.replaceChildren();
    const what = c.mode === "edit" ? t("c.editing") : t("c.replyingTo", { name: m.senderName });
    box.replaceChildren(
      h("span", { class: "what" }, h("strong", { text: what }), c.mode === "reply" ? ` ${(m.text ?? "").slice(0, 80)}` : ""),
      h("button", { type: "button", class: "link-button", dataset: { action: "cancel-compose" } }, t("d.cancel")),
    );
  }

  /** The composer's send: a new message (maybe a reply), or the edit of one. */
  async send() {
    const input = this.$('[data-role="chat-input"]');
    const text = input.value;
    if (!text.trim()) return;
    try {
      if (this.compose?.mode === "edit") {
        this.update(await this.room.editChatMessage(this.compose.id, text));
      } else {
        const m = await this.room.sendChat(text, { to: this.$('[data-role="chat-to"]').value || null, replyTo: this.compose?.id ?? null });
        this.add(m, false);
      }
      input.value = "";
      this.compose = null;
      this._renderCompose();
      this.status("");
    } catch (err) {
      this.status(errorText(err));
    }
  }

  /** Upload a file, with a progress bar, then send it. */
  async sendFile(file) {
    const status = this.$('[data-role="chat-status"]');
    const progress = h("progress", { max: 1, value: 0, "aria-label": t("c.uploading", { name: file.name }) });
    status.replaceChildren(h("span", { text: t("c.uploading", { name: file.name }) }), " ", progress);
    try {
      const uploaded = await this.room.uploadFile(file, { onProgress: (done, total) => (progress.value = total ? done / total : 0) });
      const m = await this.room.sendChat("", { to: this.$('[data-role="chat-to"]').value || null, attachmentId: uploaded.id });
      this.add(m, false);
      this.status("");
    } catch (err) {
      this.status(err.code === "PAYLOAD_TOO_LARGE" ? (err.limit ? t("c.tooLargeLimit", { name: file.name, limit: formatBytes(err.limit) }) : t("c.tooLarge", { name: file.name })) : errorText(err));
    }
  }

  status(text) {
    this.$('[data-role="chat-status"]').textContent = text;
  }

  // ---- search ----------------------------------------------------------------------------------------------

  async search(query) {
    const results = this.$('[data-role="chat-results"]');
    const log = this.$('[data-role="chat-log"]');
    if (!query.trim()) return this._closeSearch();
    let hits;
    try {
      hits = await this.room.searchChat(query.trim());
    } catch (err) {
      this.status(errorText(err));
      return;
    }
    const items = hits.map((hit) => {
      const m = hit.message;
      if (!this.messages.has(m.id)) this.messages.set(m.id, m); // older than the history loaded: shown on its own
      const text = hit.highlight.map((s) => (s.match ? h("mark", { text: s.text }) : s.text));
      return h(
        "li",
        {},
        h(
          "button",
          { type: "button", class: "hit", dataset: { action: "chat-hit", hit: m.id } },
          h("span", { class: "meta" }, h("strong", { text: m.senderName }), " ", h("time", { datetime: m.createdAt, text: new Date(m.createdAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) })),
          h("span", { class: "excerpt" }, text),
        ),
      );
    });
    results.replaceChildren(
      h("p", { class: "chat-status", role: "status", text: hits.length ? t("c.results", { n: hits.length }) : t("c.noResults") }),
      h("ul", {}, items),
      h("button", { type: "button", dataset: { action: "close-search" } }, t("c.backToChat")),
    );
    results.hidden = false;
    log.hidden = true;
  }

  _closeSearch() {
    this.$('[data-role="chat-results"]').hidden = true;
    this.$('[data-role="chat-log"]').hidden = false;
    this.$('[data-role="chat-search"]').value = "";
  }

  /** Back to the log, scrolled to one message, which is marked and focused. */
  showMessage(id) {
    this._closeSearch();
    const log = this.$('[data-role="chat-log"]');
    let node = log.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
    if (!node && this.messages.has(id)) {
      node = this.node(this.messages.get(id));
      log.prepend(node); // older than the loaded history
    }
    if (!node) return;
    log.querySelectorAll(".found").forEach((n) => n.classList.remove("found"));
    node.classList.add("found");
    node.tabIndex = -1;
    node.scrollIntoView({ block: "center" });
    node.focus();
  }
}
