// A Yjs provider for the API's shared documents (/collab/{meetingId}/{doc}: docs/collaboration.md), written on
// y-protocols and lib0 (y-websocket's client assumes a server that takes the room name and no auth frame).
//
//   const p = new CollabProvider({ apiUrl, meetingId, doc: "notes", token: () => accessToken });
//   p.ydoc.getText("notes")   p.awareness   p.writable   p.addEventListener("synced" | "status" | "denied" | "error", …)
//
// Offline edits stay in the Y.Doc; on reconnect the server's sync step 1 asks for them and they merge.

import * as Y from "yjs";
import * as syncProtocol from "y-protocols/sync";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";

const SYNC = 0;
const AWARENESS = 1;
const AUTH = 2;
/** Close codes after which reconnecting cannot help (docs/collaboration.md): bad input, not allowed, not found. */
const FATAL = new Set([4400, 4401, 4403, 4404]);

export class CollabProvider extends EventTarget {
  constructor({ apiUrl = location.origin, meetingId, doc, token, ydoc = new Y.Doc() }) {
    super();
    this.url = `${apiUrl.replace(/^http/, "ws")}/collab/${encodeURIComponent(meetingId)}/${encodeURIComponent(doc)}`;
    this.doc = doc;
    this._token = typeof token === "function" ? token : () => token;
    this.ydoc = ydoc;
    this.awareness = new awarenessProtocol.Awareness(ydoc);
    this.writable = false;
    this.host = false;
    this.locked = false;
    /** While locked: people sharing their screen (presenters) may change it too. */
    this.presenters = false;
    /** This person shares their screen now. */
    this.presenter = false;
    this.name = null;
    this.synced = false;
    this.status = "connecting";
    this.ws = null;
    this._ready = false;
    this._retries = 0;
    this._timer = null;
    this._closed = false;
    this._onUpdate = (update, origin) => {
      if (origin === this || !this._ready) return; // remote changes are not echoed; offline edits go by sync
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, SYNC);
      syncProtocol.writeUpdate(enc, update);
      this._send(encoding.toUint8Array(enc));
    };
    this._onAwareness = ({ added, updated, removed }, origin) => {
      if (origin !== "local" || !this._ready) return;
      const changed = added.concat(updated, removed).filter((id) => id === this.ydoc.clientID);
      if (changed.length) this._sendAwareness(changed);
    };
    this._offline = () => this._drop();
    this._online = () => this._reconnectSoon(0);
    ydoc.on("update", this._onUpdate);
    this.awareness.on("update", this._onAwareness);
    addEventListener("offline", this._offline);
    addEventListener("online", this._online);
    this._connect();
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  _connect() {
    if (this._closed || !navigator.onLine) return;
    this._setStatus("connecting");
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ authorization: `Bearer ${this._token() || ""}` }));
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      if (typeof ev.data === "string") return this._onControl(JSON.parse(ev.data));
      this._onMessage(new Uint8Array(ev.data));
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this._ready = false;
      this.synced = false;
      // Everyone else's cursors go: they will be sent again on reconnect.
      const others = [...this.awareness.getStates().keys()].filter((id) => id !== this.ydoc.clientID);
      awarenessProtocol.removeAwarenessStates(this.awareness, others, this);
      if (FATAL.has(ev.code)) {
        this._closed = true;
        this._setStatus("closed");
        this.dispatchEvent(new CustomEvent("error", { detail: { code: ev.code, reason: ev.reason } }));
        return;
      }
      this._setStatus("disconnected");
      this._reconnectSoon(Math.min(10000, 300 * 2 ** this._retries++));
    };
  }

  _onControl(msg) {
    if (msg.type === "locked") {
      this.locked = !!msg.locked;
      this.presenters = !!msg.presenters;
      this.dispatchEvent(new CustomEvent("status", { detail: this.status }));
      return;
    }
    if (msg.type === "error") return this.dispatchEvent(new CustomEvent("denied", { detail: msg.message }));
    if (msg.type === "access") {
      // The server decided again (moved to another room, the meeting ended, let in again).
      this.writable = !!msg.writable;
      this.presenter = !!msg.presenter;
      this.dispatchEvent(new CustomEvent("status", { detail: this.status }));
      return;
    }
    if (msg.type !== "ready") return;
    this._ready = true;
    this._retries = 0;
    this.writable = !!msg.writable;
    this.host = !!msg.host;
    this.locked = !!msg.locked;
    this.presenters = !!msg.presenters;
    this.presenter = !!msg.presenter;
    this.name = msg.name;
    this._setStatus("connected");
    // Our state vector: the server answers with what we miss; its own step 1 asks for what it misses.
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, SYNC);
    syncProtocol.writeSyncStep1(enc, this.ydoc);
    this._send(encoding.toUint8Array(enc));
    if (this.awareness.getLocalState() !== null) this._sendAwareness([this.ydoc.clientID]);
  }

  _onMessage(data) {
    const dec = decoding.createDecoder(data);
    const kind = decoding.readVarUint(dec);
    if (kind === SYNC) {
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, SYNC);
      const step = syncProtocol.readSyncMessage(dec, enc, this.ydoc, this);
      // A read-only client has nothing to offer: answering the server's step 1 would only be refused.
      if (encoding.length(enc) > 1 && (this.writable || step !== syncProtocol.messageYjsSyncStep1)) this._send(encoding.toUint8Array(enc));
      if (step === syncProtocol.messageYjsSyncStep2 && !this.synced) {
        this.synced = true;
        this.dispatchEvent(new CustomEvent("synced"));
      }
    } else if (kind === AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(dec), this);
    } else if (kind === AUTH) {
      decoding.readVarUint(dec); // 0: permission denied (y-protocols auth.js)
      this.dispatchEvent(new CustomEvent("denied", { detail: decoding.readVarString(dec) }));
      this._startOver();
    }
  }

  /** Whether this person may change the document now (connected, allowed, and not locked unless a host, or a
   * presenter when it is locked for hosts and presenters). */
  get editable() {
    if (this.status !== "connected") return this.status !== "closed";
    return this.writable && (!this.locked || this.host || (this.presenters && this.presenter));
  }

  /** Hosts and co-hosts: lock the document for hosts (`presenters` false) or for hosts and presenters, or unlock it. */
  lock(locked, presenters = false) {
    if (this.ws?.readyState === WebSocket.OPEN && this._ready) this.ws.send(JSON.stringify({ type: "lock", locked: !!locked, presenters: !!locked && !!presenters }));
  }

  _sendAwareness(ids) {
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, AWARENESS);
    encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids));
    this._send(encoding.toUint8Array(enc));
  }

  _send(bytes) {
    if (this.ws?.readyState === WebSocket.OPEN && this._ready) this.ws.send(bytes);
  }

  /**
   * The server refused an edit of ours (we may only watch, or it is locked): Yjs would hold back every later edit
   * of ours behind the refused one, and a reconnect would send it again. So the refused edit is dropped with the
   * whole local document: a new Y.Doc (a new client id) synced afresh from the server, and a "reset" event for
   * the views drawn from the old one (`mountLive` mounts them again).
   */
  _startOver() {
    const local = this.awareness.getLocalState();
    this.ydoc.off("update", this._onUpdate);
    this.awareness.off("update", this._onAwareness);
    this.awareness.destroy();
    this.ydoc = new Y.Doc();
    this.awareness = new awarenessProtocol.Awareness(this.ydoc);
    if (local) this.awareness.setLocalState(local);
    this.ydoc.on("update", this._onUpdate);
    this.awareness.on("update", this._onAwareness);
    this.synced = false;
    this.dispatchEvent(new CustomEvent("reset"));
    this._retries = 0;
    this._drop();
  }

  _drop() {
    clearTimeout(this._timer);
    const ws = this.ws;
    if (ws) ws.close(1000, "offline");
  }

  _reconnectSoon(ms) {
    clearTimeout(this._timer);
    if (this._closed) return;
    this._timer = setTimeout(() => {
      if (!this.ws) this._connect();
    }, ms);
  }

  destroy() {
    this._closed = true;
    clearTimeout(this._timer);
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.ydoc.clientID], "local");
    this.ydoc.off("update", this._onUpdate);
    this.awareness.off("update", this._onAwareness);
    removeEventListener("offline", this._offline);
    removeEventListener("online", this._online);
    this.awareness.destroy();
    if (this.ws) this.ws.close(1000, "closed");
    this.ws = null;
  }
}

/** A stable colour for a Yjs client, so a person's cursor and strokes keep one colour on every screen. */
export function clientColour(id) {
  const hues = [210, 0, 130, 35, 280, 175, 320, 55];
  return `hsl(${hues[id % hues.length]} 70% 45%)`;
}

/**
 * Mount a view of a shared document (`mountNotes`, `mountBoard`, `mountAnnotation`: a function of no arguments
 * here) and mount it again whenever the provider starts over on a fresh document (an edit of ours was refused).
 * Returns the view, whatever its current mount: its methods always reach the live one.
 */
export function mountLive(provider, mount) {
  let view = mount();
  const again = () => {
    view.destroy();
    view = mount();
  };
  provider.addEventListener("reset", again);
  return new Proxy(
    {},
    {
      get(_, key) {
        if (key === "destroy")
          return () => {
            provider.removeEventListener("reset", again);
            view.destroy();
          };
        const value = view[key];
        return typeof value === "function" ? value.bind(view) : value;
      },
    },
  );
}
