// One RTCPeerConnection to the media edge, signalled over the edge's WebSocket (protocol/signalling.py).
//
// The client publishes by offering; the edge adds send-only transceivers for others' media and offers them
// to us. Glare follows "perfect negotiation" (W3C webrtc-pc section 10.7): we are the *polite* peer - an edge
// offer that collides with ours wins: we roll ours back, answer, and the browser fires negotiationneeded
// again so we re-offer. The edge, impolite, ignores our colliding offer without blocking.

const SOURCES = new Set(["camera", "microphone", "screen"]);

// Simulcast: the camera goes out in up to three sizes (RFC 8853, rids "q", "h", "f": quarter, half, full) and
// the edge forwards each subscriber the one that fits its downlink and the size it shows the video at.
// Bitrates follow the product's ladder (1080p 2.5, 720p 1.5, 480p 0.8, 240p 0.3 Mbit/s); a camera under 360p
// sends one stream.
export function simulcastEncodings(track) {
  const height = track?.getSettings?.().height ?? 0;
  if (height >= 1080) return [{ rid: "q", scaleResolutionDownBy: 4, maxBitrate: 300_000 }, { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 800_000 }, { rid: "f", maxBitrate: 2_500_000 }];
  if (height >= 540) return [{ rid: "q", scaleResolutionDownBy: 4, maxBitrate: 150_000 }, { rid: "h", scaleResolutionDownBy: 2, maxBitrate: 500_000 }, { rid: "f", maxBitrate: 1_500_000 }];
  if (height >= 360) return [{ rid: "h", scaleResolutionDownBy: 2, maxBitrate: 200_000 }, { rid: "f", maxBitrate: 800_000 }];
  return null;
}

export class MediaSession extends EventTarget {
  /**
   * Events: "joined" (detail: joined frame), "track" ({mid, track, participantId, source}),
   * "trackended" ({mid, participantId, source}), "closed" ({code, reason, requested}): the signalling socket
   * closed (`requested`: by our own close()/leave()), "failed": the media connection failed (ICE/DTLS).
   */
  constructor(edgeUrl, joinToken) {
    super();
    this.edgeUrl = edgeUrl;
    this.joinToken = joinToken;
    // A candidate pool gathers while the socket opens and the edge checks our token, not after we offer.
    this.pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require", iceCandidatePoolSize: 1 });
    this.ws = null;
    this.makingOffer = false;
    this.collisions = 0; // edge offers that arrived while ours was pending (rolled back)
    this.published = new Map(); // RTCRtpTransceiver -> source
    this.remote = new Map(); // mid -> {participantId, source, track}
    this._queue = Promise.resolve(); // signalling messages are applied one at a time, in order
    this._closed = false;
    this._closeRequested = false;

    this.pc.onnegotiationneeded = () => this._offer();
    this.pc.ontrack = (ev) => this._ontrack(ev);
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === "failed" && !this._closed) this.dispatchEvent(new CustomEvent("failed"));
    };
  }

  /** Open the socket, send `join`, resolve with the `joined` frame. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = (this.ws = new WebSocket(this.edgeUrl));
      let joined = false;
      ws.onopen = () => ws.send(JSON.stringify({ type: "join", token: this.joinToken }));
      ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.type === "joined" && !joined) {
          joined = true;
          this.dispatchEvent(new CustomEvent("joined", { detail: msg }));
          resolve(msg);
          return;
        }
        this._queue = this._queue.then(() => this._handle(msg)).catch((err) => console.error("meetmesh: signalling", err));
      };
      ws.onclose = (ev) => {
        if (!joined) reject(new Error(`edge refused the join: ${ev.code} ${ev.reason}`));
        this._closed = true;
        this.dispatchEvent(new CustomEvent("closed", { detail: { code: ev.code, reason: ev.reason, requested: this._closeRequested } }));
      };
    });
  }

  /** Start sending `track` as `source` (a camera in simulcast unless `simulcast` is false, its layers sized
   * from `sizeOf`: the camera behind a processed track); returns its transceiver (negotiation follows by itself). */
  publish(track, source, stream = null, { simulcast = true, sizeOf = track } = {}) {
    if (!SOURCES.has(source)) throw new Error(`unknown source ${source}`);
    const init = { direction: "sendonly", streams: stream ? [stream] : [] };
    const encodings = simulcast && source === "camera" ? simulcastEncodings(sizeOf) : null;
    if (encodings) init.sendEncodings = encodings;
    const transceiver = this.pc.addTransceiver(track, init);
    this.published.set(transceiver, source);
    return transceiver;
  }

  /** Receive without sending anything (no camera or microphone, or access refused): the edge admits a client to
   * the room's media on its first offer, and a peer connection with nothing to send never makes one. A
   * receive-only audio line makes that offer. */
  receiveOnly() {
    return this.pc.addTransceiver("audio", { direction: "recvonly" });
  }

  /** Stop sending on `transceiver` for good (a screen share ended). */
  unpublish(transceiver) {
    this.published.delete(transceiver);
    transceiver.sender.replaceTrack(null);
    transceiver.direction = "inactive"; // negotiationneeded re-offers
  }

  /** Tell the edge the video received on `mid` is shown at `width` x `height` device pixels (0 x 0: hidden),
   * so it forwards the smallest simulcast layer that covers it, or nothing while hidden. Repeats are not sent. */
  setVideoSize(mid, width, height) {
    const size = [Math.max(0, Math.round(width)), Math.max(0, Math.round(height))];
    const key = `${size[0]}x${size[1]}`;
    if (mid === null || mid === undefined || this._sizes?.get(mid) === key) return;
    (this._sizes ??= new Map()).set(mid, key);
    this._send({ type: "videoSize", mid, width: size[0], height: size[1] });
  }

  /** The mid a remote track arrives on (null if it is not one of ours). */
  midOf(track) {
    for (const [mid, info] of this.remote) if (info.track === track) return mid;
    return null;
  }

  leave() {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "leave" }));
    this.close();
  }

  close() {
    this._closeRequested = true;
    this._closed = true;
    this.pc.close();
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close(1000);
  }

  _send(msg) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  _trackMap() {
    const tracks = {};
    for (const [t, source] of this.published) if (t.mid !== null) tracks[t.mid] = { source };
    return tracks;
  }

  async _offer() {
    if (this._closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.signalingState !== "have-local-offer") return; // an edge offer overtook us
      await this._iceGathered();
      this._send({ type: "offer", sdp: this.pc.localDescription.sdp, tracks: this._trackMap() });
    } catch (err) {
      console.error("meetmesh: offer failed", err);
    } finally {
      this.makingOffer = false;
    }
  }

  // The first offer carries every host candidate instead of trickling them: on a LAN or loopback gathering
  // takes milliseconds, and the edge (aiortc) answers with all of its own in the SDP too.
  _iceGathered() {
    if (this.pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (this.pc.iceGatheringState !== "complete") return;
        this.pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      };
      this.pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, 2000);
    });
  }

  async _handle(msg) {
    if (this._closed) return;
    if (msg.type === "offer") {
      const collision = this.makingOffer || this.pc.signalingState !== "stable";
      if (collision) {
        this.collisions += 1;
        await this.pc.setLocalDescription({ type: "rollback" });
      }
      this._noteRemoteTracks(msg.tracks || {});
      await this.pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
      await this.pc.setLocalDescription();
      this._send({ type: "answer", sdp: this.pc.localDescription.sdp });
      this._endInactive();
    } else if (msg.type === "answer") {
      if (this.pc.signalingState !== "have-local-offer") return; // answer to an offer we rolled back
      await this.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp });
    } else if (msg.type === "tracks") {
      // A sender moved to another publisher without renegotiation (last-N): re-label its mid.
      this._noteRemoteTracks(msg.tracks || {});
    } else if (msg.type === "candidate") {
      if (msg.candidate) await this.pc.addIceCandidate({ candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex }).catch(() => {});
    } else if (msg.type === "error") {
      console.warn("meetmesh: edge error", msg.code, msg.message);
      this.dispatchEvent(new CustomEvent("edgeerror", { detail: msg }));
    }
  }

  _noteRemoteTracks(tracks) {
    for (const [mid, info] of Object.entries(tracks)) {
      const known = this.remote.get(mid);
      if (known && known.participantId === info.participantId && known.source === info.source) continue;
      const entry = { participantId: info.participantId, source: info.source, track: known?.track ?? null };
      this.remote.set(mid, entry);
      if (known?.track) {
        // The edge moved this sender to another publisher (no renegotiation of the m-line itself).
        this._emitEnded(mid, known);
        this.dispatchEvent(new CustomEvent("track", { detail: { mid, ...entry } }));
      }
    }
    this._pendingInfo = tracks;
  }

  // Mids the edge stopped sending on (inactive, absent from its map) end their tiles.
  _endInactive() {
    for (const t of this.pc.getTransceivers()) {
      if (t.mid === null || this.published.has(t)) continue;
      const info = this.remote.get(t.mid);
      if (!info) continue;
      if (t.currentDirection === "inactive" || !(t.mid in (this._pendingInfo || {}))) {
        this.remote.delete(t.mid);
        if (info.track) this._emitEnded(t.mid, info);
      }
    }
  }

  /** End every remote track (tiles go) - this session is being replaced by a new one. */
  endRemoteTracks() {
    for (const [mid, info] of this.remote) if (info.track) this._emitEnded(mid, info);
    this.remote.clear();
  }

  _emitEnded(mid, info) {
    this.dispatchEvent(new CustomEvent("trackended", { detail: { mid, participantId: info.participantId, source: info.source, track: info.track } }));
  }

  _ontrack(ev) {
    const mid = ev.transceiver.mid;
    const info = this.remote.get(mid);
    if (!info) return;
    info.track = ev.track;
    this.dispatchEvent(new CustomEvent("track", { detail: { mid, track: ev.track, participantId: info.participantId, source: info.source } }));
  }

  /** Inbound RTP stats per remote mid: {mid, kind, participantId, source, framesDecoded, frameWidth, frameHeight,
   * keyFramesDecoded, freezeCount, packetsReceived, packetsLost, nackCount, pliCount, totalAudioEnergy}. */
  /** The connection's round trip to the edge in ms (the selected ICE candidate pair), null if not known yet. */
  async roundTripMs() {
    const stats = await this.pc.getStats();
    let rtt = null;
    stats.forEach((s) => {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && typeof s.currentRoundTripTime === "number") rtt = s.currentRoundTripTime * 1000;
    });
    return rtt;
  }

  async inboundStats() {
    const stats = await this.pc.getStats();
    const out = [];
    stats.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      const info = this.remote.get(s.mid);
      if (!info) return;
      out.push({
        mid: s.mid,
        kind: s.kind,
        participantId: info.participantId,
        source: info.source,
        framesDecoded: s.framesDecoded ?? 0,
        frameWidth: s.frameWidth ?? 0,
        frameHeight: s.frameHeight ?? 0,
        keyFramesDecoded: s.keyFramesDecoded ?? 0,
        freezeCount: s.freezeCount ?? 0,
        packetsLost: s.packetsLost ?? 0,
        nackCount: s.nackCount ?? 0,
        pliCount: s.pliCount ?? 0,
        packetsReceived: s.packetsReceived ?? 0,
        jitter: s.jitter ?? null,
        totalAudioEnergy: s.totalAudioEnergy ?? 0,
      });
    });
    return out;
  }
}
