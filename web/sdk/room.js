// A meeting as one object: join (GraphQL) → waiting room → media (edge) → live events, and the controls.

import { GraphQLClient } from "./graphql.js";
import { MediaSession } from "./media.js";

const PARTICIPANT = "id displayName role isGuest state audioMuted mutedByHost videoOn sharing handRaisedAt breakoutRoomId recordingLocally localRecordingGranted";
const SESSION_FIELDS = "status allowChooseRoom graceSeconds openedAt closesAt returnsAt";
const BREAKOUT_STATE = `${SESSION_FIELDS} rooms { id name participantIds }`;
const POLL_BASE = "id question kind anonymous status resultsShared options { id text } myVote { optionIds castAt }";
const POLL_RESULTS = "results { final voterCount tallyVoterCount options { optionId votes percent } }";
export const POLL = `${POLL_BASE} ${POLL_RESULTS}`;
const MEETING_STATE = "locked waitingRoom allowSelfUnmute spotlightParticipantId allowLocalRecording";
export const CHAT_MESSAGE = `id senderId senderName recipientId recipientName text createdAt editedAt isPrivate deleted
  replyTo { id senderName text deleted } reactions { emoji count participantIds }
  attachment { id filename contentType size download { url } }`;
const JOIN = `mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status meetingId guestToken clientToken eventSeq participant { ${PARTICIPANT} } joinToken { token edgeUrl } } }`;
const EVENTS = `subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  seq type actorId
  ... on ParticipantEvent { participant { ${PARTICIPANT} } }
  ... on BulkParticipantEvent { participantIds }
  ... on ReactionEvent { reactionBy: participantId emoji }
  ... on PollEvent { poll { id question status resultsShared } }
  ... on PollResultsEvent { results { pollId voterCount } }
  ... on BreakoutRoomsEvent { breakouts { ${BREAKOUT_STATE} } }
  ... on BreakoutBroadcastEvent { broadcast: message senderName }
  ... on BreakoutHelpRequestedEvent { participant { ${PARTICIPANT} } roomName }
  ... on ActiveSpeakerEvent { participantId }
  ... on CaptionEvent { captionBy: participantId speakerName text language }
  ... on ChatMessageEvent { message { ${CHAT_MESSAGE} } }
  ... on ChatReactionEvent { reactedMessageId: messageId messageReactions: reactions { emoji count participantIds } }
  ... on RecordingEvent { recording { id status breakoutRoom { id } } }
  ... on MeetingStateEvent { meeting { ${MEETING_STATE} } }
} }`;
const CLOUD_RECORDING = { RECORDING_STARTED: "recording", RECORDING_RESUMED: "recording", RECORDING_PAUSED: "paused", RECORDING_STOPPED: null };
const ACTIVE_RECORDING = { RECORDING: "recording", PAUSED: "paused" };
const HOST_ROLES = new Set(["HOST", "COHOST"]);
// Host controls as whole documents (one per operation, never built from its name: the limits test reads them).
const PARTICIPANT_OPS = {
  askToUnmute: `mutation($p: ID!) { askToUnmute(participantId: $p) { id } }`,
  stopVideo: `mutation($p: ID!) { stopVideo(participantId: $p) { id } }`,
  makeCohost: `mutation($p: ID!) { makeCohost(participantId: $p) { id } }`,
  transferHost: `mutation($p: ID!) { transferHost(participantId: $p) { id } }`,
  revokeCohost: `mutation($p: ID!) { revokeCohost(participantId: $p) { id } }`,
  lowerHand: `mutation($p: ID!) { lowerHand(participantId: $p) { id } }`,
};
const MEETING_OPS = {
  muteAll: `mutation($m: ID!) { muteAll(meetingId: $m) { id } }`,
  admitAll: `mutation($m: ID!) { admitAll(meetingId: $m) { id } }`,
  lowerAllHands: `mutation($m: ID!) { lowerAllHands(meetingId: $m) { id } }`,
  lockMeeting: `mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }`,
  unlockMeeting: `mutation($m: ID!) { unlockMeeting(meetingId: $m) { id } }`,
  setWaitingRoom: `mutation($m: ID!, $enabled: Boolean!) { setWaitingRoom(meetingId: $m, enabled: $enabled) { id } }`,
  setAllowSelfUnmute: `mutation($m: ID!, $allowed: Boolean!) { setAllowSelfUnmute(meetingId: $m, allowed: $allowed) { id } }`,
};
const POLL_OPS = {
  launchPoll: `mutation($p: ID!) { launchPoll(pollId: $p) { ${POLL} } }`,
  endPoll: `mutation($p: ID!) { endPoll(pollId: $p) { ${POLL} } }`,
  sharePollResults: `mutation($p: ID!) { sharePollResults(pollId: $p) { ${POLL} } }`,
};

// The identity the server issued this browser (clientToken), kept per API so a host's block follows the
// client whatever name it types next time. Storage may be unavailable (sandboxed frames): then it lasts a page.
const clientTokens = new Map();
function clientTokenKey(apiUrl) {
  return `meetmesh.clientToken:${apiUrl}`;
}
function loadClientToken(apiUrl) {
  try {
    return localStorage.getItem(clientTokenKey(apiUrl)) ?? clientTokens.get(apiUrl) ?? null;
  } catch {
    return clientTokens.get(apiUrl) ?? null;
  }
}
function saveClientToken(apiUrl, token) {
  clientTokens.set(apiUrl, token);
  try {
    localStorage.setItem(clientTokenKey(apiUrl), token);
  } catch {
    /* kept in memory only */
  }
}
const MY_EVENTS = `subscription($m: ID!, $after: Int) { myEvents(meetingId: $m, afterSeq: $after) {
  seq type ... on ParticipantEvent { participant { ${PARTICIPANT} } } } }`;
const GONE = new Set(["PARTICIPANT_LEFT", "PARTICIPANT_REMOVED", "PARTICIPANT_DENIED"]);
// Edge close codes after which reconnecting is pointless (protocol/signalling.py).
const FINAL_CLOSE = { 4403: "removed", 4409: "replaced", 4410: "ended" };
const RECONNECT_FOR_MS = 60_000;

/**
 * Events (CustomEvent, details in brackets):
 *   waiting, admitted, connected [{participantId}], participants [Participant[]],
 *   participantjoined / participantupdated / participantleft / participantwaiting [Participant],
 *   track [{participantId, source, track}], trackended [{participantId, source, track}],
 *   activespeaker [{participantId}], caption [{participantId, speakerName, text, language}] (live captions, when the
 *   edge makes them), chat [ChatMessage], mutedbyhost, left, ended [{reason}],
 *   reconnecting [{attempt}], reconnected: the media connection dropped (signalling socket or ICE) and is
 *   being re-established with a fresh join token; what we published is published again.
 *   localrecording [{active, blob?, filename?}]: local recording started, or stopped (by
 *   stopLocalRecording() or leaving) with the recorded WebM and a file name for it.
 */
export class Room extends EventTarget {
  constructor({ apiUrl = location.origin, number, displayName = null, passcode = null, inviteKey = null, token = null, stream = null, simulcast = true, background = null } = {}) {
    super();
    if (!number) throw new Error("number is required");
    this.gql = new GraphQLClient(apiUrl, token);
    this.number = String(number);
    this.displayName = displayName;
    this.passcode = passcode;
    this.inviteKey = inviteKey; // the `k` of an invite link: no passcode needed
    this.allowLocalRecording = false; // the meeting lets everyone record locally
    this.cloudRecording = null; // null | "recording" | "paused": the cloud recording of the room we are in
    // Cloud recordings running now, by id: the main room's (room null) and, while breakout rooms are open, one per
    // occupied room. Each person is shown the one of the room they are in (docs/recordings.md#breakout-rooms).
    this._activeRecordings = new Map();
    // The meeting's live state (MeetingState): lock, waiting room, self-unmute, spotlight.
    this.meetingState = { locked: false, waitingRoom: false, allowSelfUnmute: true, spotlightParticipantId: null };
    this.edgeRtts = null; // [{edgeId, rttMs}] measured before joining (probeEdges)
    this.breakouts = null; // BreakoutState: rooms, status, countdown (null before any)
    this.stream = stream; // camera + microphone to publish (null: publish nothing)
    this.simulcast = simulcast; // the camera in up to three sizes (media.js simulcastEncodings)
    // Virtual background (web/sdk/background.js): null, {type: "blur", strength} or {type: "image", url}; the
    // camera is published through it. Applied when media connects (or at once by setBackground()).
    this.background = background;
    this._effect = null; // the BackgroundEffect processing the camera, while a background is on
    this.meetingId = null;
    this.me = null;
    this.participants = new Map();
    this.waiting = new Map(); // people in the waiting room (hosts and co-hosts are told about them)
    this.state = "idle"; // idle | joining | waiting | connected | reconnecting | left | ended
    this.media = null;
    this.micEnabled = true;
    this.cameraEnabled = true;
    this.timing = { joinRequestAt: null, admittedAt: null, edgeJoinedAt: null, connectedAt: null, firstTrackAt: null, firstFrameAt: null, joinToFirstFrameMs: null };
    this._mic = null; // transceivers
    this._camera = null;
    this._screen = null;
    this._unsubscribe = [];
    this._localRecorder = null;
  }

  /** Join the meeting; resolves once media is connected (after the waiting room, if any). */
  async join() {
    try {
      await this._join();
    } catch (err) {
      if (this.state !== "ended") {
        this._stop();
        this.media?.close();
        this.state = "idle";
      }
      throw err;
    }
    return this;
  }

  async _join() {
    this.state = "joining";
    this.timing.joinRequestAt = performance.now();
    this.edgeRtts = await probeEdges(this.gql);
    const input = { number: this.number, passcode: this.passcode || null, displayName: this.displayName, clientToken: loadClientToken(this.gql.apiUrl), inviteKey: this.inviteKey || null };
    if (this.edgeRtts.length) input.edgeRtts = this.edgeRtts;
    const r = (await this.gql.request(JOIN, { i: input })).joinMeeting;
    if (r.clientToken) saveClientToken(this.gql.apiUrl, r.clientToken);
    if (r.guestToken) this.gql.token = r.guestToken;
    this.meetingId = r.meetingId;
    this.me = r.participant;
    let joinToken = r.joinToken;
    let seq = r.eventSeq;
    if (r.status === "WAITING") {
      this.state = "waiting";
      this._emit("waiting", this.me);
      ({ joinToken, seq } = await this._waitForAdmission(seq));
    }
    this.timing.admittedAt = performance.now();
    this._emit("admitted", this.me);
    await this._connect(joinToken, seq);
  }

  _waitForAdmission(afterSeq) {
    return new Promise((resolve, reject) => {
      const close = this.gql.subscribe(MY_EVENTS, { m: this.meetingId, after: afterSeq }, async (data) => {
        const ev = data.myEvents;
        if (ev.type === "PARTICIPANT_ADMITTED" && ev.participant?.id === this.me.id) {
          close();
          try {
            const t = (await this.gql.request(`mutation($m: ID!, $r: [EdgeRttInput!]) { refreshJoinToken(meetingId: $m, edgeRtts: $r) { token edgeUrl } }`, { m: this.meetingId, r: this.edgeRtts?.length ? this.edgeRtts : null })).refreshJoinToken;
            resolve({ joinToken: t, seq: ev.seq });
          } catch (err) {
            reject(err);
          }
        } else if (ev.type === "PARTICIPANT_DENIED" || ev.type === "MEETING_ENDED") {
          close();
          this._end(ev.type === "MEETING_ENDED" ? "ended" : "denied");
          reject(new Error(ev.type === "MEETING_ENDED" ? "the meeting ended" : "the host did not let you in"));
        }
      }, { resume: (data) => ({ after: data.myEvents.seq }) });
      this._unsubscribe.push(close);
    });
  }

  async _connect(joinToken, seq) {
    // Subscribe before fetching the list, from the join's sequence: nothing is missed in between.
    this._unsubscribe.push(
      this.gql.subscribe(EVENTS, { m: this.meetingId, after: seq }, (data) => this._onEvent(data.meetingEvents), {
        resume: (data) => ({ after: data.meetingEvents.seq }),
      }),
    );
    const { meeting, recordings } = await this.gql.request(
      `query($m: ID!) { meeting(id: $m) { locked spotlightParticipantId settings { allowLocalRecording waitingRoom allowSelfUnmute }
        participants(states: [ADMITTED]) { ${PARTICIPANT} } } recordings(meetingId: $m) { id status breakoutRoom { id } } }`,
      { m: this.meetingId },
    );
    for (const p of meeting.participants) this.participants.set(p.id, p);
    this.allowLocalRecording = meeting.settings.allowLocalRecording;
    const { locked, spotlightParticipantId } = meeting;
    this.meetingState = { locked, spotlightParticipantId, waitingRoom: meeting.settings.waitingRoom, allowSelfUnmute: meeting.settings.allowSelfUnmute };
    for (const r of recordings) this._trackRecording(r);
    this.cloudRecording = this._cloudStateHere();
    this._emit("participants", [...this.participants.values()]);
    this._emitRecordingState();
    // Who waits already (hosts) and the breakout rooms, while media connects: neither delays the join.
    const extras = this._loadExtras();
    await this._connectMedia(joinToken);
    await extras;
    if (this.me.audioMuted) this._applyMic(false);
    this.state = "connected";
    this.timing.connectedAt = performance.now();
    // Everyone starts "camera off" on the server: say ours is on, so others show video, not initials.
    if (this.cameraEnabled && this.stream?.getVideoTracks().length) this._updateMyMedia({ videoOn: true }).catch(() => {});
    this._emit("connected", { participantId: this.me.id });
    this._watchFirstFrame();
  }

  async _loadExtras() {
    try {
      if (this.isHost) {
        // Arrivals from now on come as events; these were there before.
        const q = `query($m: ID!) { meeting(id: $m) { participants(states: [WAITING]) { ${PARTICIPANT} } } }`;
        for (const p of (await this.gql.request(q, { m: this.meetingId })).meeting.participants) if (!this.waiting.has(p.id) && !this.participants.has(p.id)) this.waiting.set(p.id, p);
      }
      this.breakouts = await this.breakoutSession({ plan: false });
    } catch (err) {
      console.warn("meetmesh: waiting list or breakout rooms not loaded", err); // not fatal: events bring them
    }
  }

  // One media session (signalling socket + peer connection); a reconnect makes a new one and publishes again.
  async _connectMedia(joinToken) {
    const media = (this.media = new MediaSession(joinToken.edgeUrl, joinToken.token));
    media.addEventListener("track", (ev) => {
      if (ev.detail.track.kind === "video" && this.timing.firstTrackAt === null) this.timing.firstTrackAt = performance.now();
      this._emit("track", ev.detail);
    });
    media.addEventListener("trackended", (ev) => this._emit("trackended", ev.detail));
    media.addEventListener("closed", (ev) => this._onMediaLost(media, ev.detail));
    media.addEventListener("failed", () => this._onMediaLost(media, { code: 0, reason: "media connection failed" }));
    await media.connect();
    this.timing.edgeJoinedAt ??= performance.now();
    const screen = this._screen?.sender.track;
    this._mic = this._camera = this._screen = null;
    if (this.background && !this._effect) await this.setBackground(this.background);
    if (this.stream) {
      const audio = this.stream.getAudioTracks()[0];
      const camera = this.stream.getVideoTracks()[0];
      const video = camera && this.localVideoTrack();
      if (audio) this._mic = media.publish(audio, "microphone", this.stream);
      // Simulcast layers follow the camera's size (a processed track may not know its size before its first frame).
      if (video) this._camera = media.publish(video, "camera", this.stream, { simulcast: this.simulcast, sizeOf: camera });
      if (audio && !this.micEnabled) this._mic.sender.replaceTrack(null);
      if (video && !this.cameraEnabled) this._camera.sender.replaceTrack(null);
    }
    if (screen && screen.readyState === "live") this._screen = media.publish(screen, "screen", new MediaStream([screen]));
    if (!this._mic && !this._camera && !this._screen) media.receiveOnly();
  }

  /**
   * Say how big a received video is shown (CSS pixels; 0 x 0 when hidden): the edge then sends the smallest
   * simulcast layer that covers it (nothing while hidden), sparing both sides' bandwidth and CPU. `<meetmesh-room>` does this itself.
   */
  setVideoSize(track, width, height) {
    const mid = this.media?.midOf(track);
    const scale = globalThis.devicePixelRatio || 1;
    if (mid !== null && mid !== undefined) this.media.setVideoSize(mid, width * scale, height * scale);
  }

  _onMediaLost(media, { code, reason, requested }) {
    if (media !== this.media || requested) return; // an old session, or we closed it ourselves
    if (FINAL_CLOSE[code]) {
      if (this.state === "connected" || this.state === "reconnecting") this._end(FINAL_CLOSE[code]);
      return;
    }
    if (this.state === "connected") this._reconnect(reason);
  }

  // Back-off 0.5 s, 1 s, 2 s … 8 s, for up to RECONNECT_FOR_MS; each try asks the API for a fresh join token
  // (the old one may have expired, and a refusal there - removed, meeting over - ends the room for good).
  async _reconnect(reason) {
    this.state = "reconnecting";
    const old = this.media;
    old.endRemoteTracks();
    old.close();
    const until = performance.now() + RECONNECT_FOR_MS;
    for (let attempt = 1; this.state === "reconnecting"; attempt++) {
      this._emit("reconnecting", { attempt, reason });
      try {
        const t = (await this.gql.request(`mutation($m: ID!, $r: [EdgeRttInput!]) { refreshJoinToken(meetingId: $m, edgeRtts: $r) { token edgeUrl } }`, { m: this.meetingId, r: this.edgeRtts?.length ? this.edgeRtts : null })).refreshJoinToken;
        if (this.state !== "reconnecting") return;
        await this._connectMedia(t);
        if (this.state !== "reconnecting") {
          this.media.close(); // left or ended while we reconnected
          return;
        }
        this.state = "connected";
        this._emit("reconnected", {});
        return;
      } catch (err) {
        if (err.code === "FORBIDDEN" || err.code === "NOT_FOUND") return this._end("removed");
        this.media?.close();
        if (performance.now() > until) return this._end("connection lost");
        await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1))));
      }
    }
  }

  // Join time as users feel it: the joinMeeting request → the first remote video frame decoded.
  _watchFirstFrame() {
    const poll = async () => {
      if (this.state !== "connected" || this.timing.firstFrameAt !== null) return;
      const stats = await this.media.inboundStats();
      if (stats.some((s) => s.kind === "video" && s.framesDecoded > 0)) {
        this.timing.firstFrameAt = performance.now();
        this.timing.joinToFirstFrameMs = this.timing.firstFrameAt - this.timing.joinRequestAt;
        this._emit("firstframe", { ...this.timing });
        return;
      }
      setTimeout(poll, 50);
    };
    poll();
  }

  _onEvent(ev) {
    const p = ev.participant;
    if (p && ev.type !== "PARTICIPANT_UPDATED") this.waiting.delete(p.id);
    if (ev.type === "PARTICIPANT_WAITING" && p) {
      this.waiting.set(p.id, p);
      this._emit("participantwaiting", p);
    } else if (ev.type === "PARTICIPANT_ADMITTED" && p) {
      this.participants.set(p.id, p);
      this._emit("participantjoined", p);
    } else if (GONE.has(ev.type) && p) {
      this.participants.delete(p.id);
      this.waiting.delete(p.id);
      this._emit("participantleft", p);
      if (p.id === this.me.id && ev.type === "PARTICIPANT_REMOVED") this._end("removed");
    } else if (ev.type === "PARTICIPANT_UPDATED" && p) {
      if (this.participants.has(p.id) || p.state === "ADMITTED") this.participants.set(p.id, p);
      if (p.id === this.me.id) {
        const was = this.me;
        const wasMuted = this.me.audioMuted;
        this.me = p;
        // Why things changed, for the page to tell: the host made us co-host, renamed us, lowered our hand.
        if (ev.actorId && ev.actorId !== p.id) {
          if (p.role !== was.role) this._emit("rolechanged", { role: p.role });
          if (p.displayName !== was.displayName) this._emit("renamed", { displayName: p.displayName });
          if (was.handRaisedAt && !p.handRaisedAt) this._emit("handlowered", {});
          if (was.videoOn && !p.videoOn && this.cameraEnabled) {
            this._applyCamera(false);
            this._emit("videostoppedbyhost", p);
          }
          if (was.breakoutRoomId !== p.breakoutRoomId) this._emit("moved", { roomId: p.breakoutRoomId });
        }
        // Another room, another recording (or none): the indicator follows the room we are in.
        // Quietly: the move is the news ("You were moved to…"); a recording starting in the new room says so itself.
        if (was.breakoutRoomId !== p.breakoutRoomId) this._refreshCloudState(null, { quiet: true });
        // Obey the host: a mute arrives as our own update with mutedByHost (the edge also stops forwarding).
        if (p.audioMuted && !wasMuted && this.micEnabled) {
          this._applyMic(false);
          this._emit("mutedbyhost", p);
        }
      }
      this._emit("participantupdated", p);
    } else if (ev.type === "ALL_MUTED") {
      // One event for everyone muted: update each (no per-person event follows).
      for (const id of ev.participantIds ?? []) {
        const q = this.participants.get(id);
        if (q) this.participants.set(id, { ...q, audioMuted: true, mutedByHost: true });
      }
      if (ev.participantIds?.includes(this.me.id)) {
        this.me = { ...this.me, audioMuted: true, mutedByHost: true };
        this._applyMic(false);
        this._emit("mutedbyhost", this.me);
      }
      this._emit("participants", [...this.participants.values()]);
    } else if (ev.type === "UNMUTE_REQUESTED" && p?.id === this.me.id) {
      this._emit("unmuterequested", {});
    } else if (ev.type === "HANDS_LOWERED") {
      for (const id of ev.participantIds ?? []) {
        const q = this.participants.get(id);
        if (q) this.participants.set(id, { ...q, handRaisedAt: null });
        if (id === this.me.id) {
          this.me = { ...this.me, handRaisedAt: null };
          this._emit("handlowered", {});
        }
      }
      this._emit("participants", [...this.participants.values()]);
    } else if (ev.type.startsWith("POLL_") && (ev.poll || ev.results)) {
      this._emit("poll", { type: ev.type, poll: ev.poll ?? { id: ev.results.pollId }, results: ev.results ?? null });
    } else if (ev.type === "BREAKOUT_BROADCAST") {
      this._emit("breakoutbroadcast", { message: ev.broadcast, senderName: ev.senderName });
    } else if (ev.type === "BREAKOUT_HELP_REQUESTED") {
      this._emit("breakouthelp", { participant: ev.participant, roomName: ev.roomName });
    } else if (ev.type.startsWith("BREAKOUT_") && ev.breakouts) {
      this.breakouts = ev.breakouts;
      this._emit("breakouts", { type: ev.type, breakouts: ev.breakouts });
    } else if (ev.type === "REACTION_SENT") {
      this._emit("reaction", { participantId: ev.reactionBy, emoji: ev.emoji });
    } else if ((ev.type === "CHAT_MESSAGE_EDITED" || ev.type === "CHAT_MESSAGE_DELETED") && ev.message) {
      this._emit("chatupdated", ev.message);
    } else if (ev.type === "CHAT_REACTION_CHANGED" && ev.reactedMessageId) {
      this._emit("chatreaction", { messageId: ev.reactedMessageId, reactions: ev.messageReactions });
    } else if (ev.type === "ACTIVE_SPEAKER_CHANGED") {
      this._emit("activespeaker", { participantId: ev.participantId });
    } else if (ev.type === "CAPTION") {
      this._emit("caption", { participantId: ev.captionBy, speakerName: ev.speakerName, text: ev.text, language: ev.language ?? null });
    } else if (ev.type === "CHAT_MESSAGE_SENT" && ev.message) {
      this._emit("chat", ev.message);
    } else if ((ev.type === "LOCAL_RECORDING_STARTED" || ev.type === "LOCAL_RECORDING_STOPPED") && p) {
      if (this.participants.has(p.id)) this.participants.set(p.id, p);
      if (p.id === this.me.id) {
        this.me = p;
        // The host withdrew the permission: stop (what was recorded is still saved).
        if (!p.recordingLocally && this._localRecorder) this.stopLocalRecording();
      }
      this._emitRecordingState();
    } else if (ev.type in CLOUD_RECORDING) {
      if (ev.recording) this._trackRecording(ev.recording, ev.type);
      else this._activeRecordings.clear(); // an older server: one recording, the meeting's
      this._refreshCloudState(ev.type);
    } else if (ev.type === "MEETING_UPDATED" && ev.meeting && "allowLocalRecording" in ev.meeting) {
      this.allowLocalRecording = ev.meeting.allowLocalRecording;
      const before = this.meetingState;
      const { locked, waitingRoom, allowSelfUnmute, spotlightParticipantId } = ev.meeting;
      this.meetingState = { locked, waitingRoom, allowSelfUnmute, spotlightParticipantId };
      this._emit("meetingstate", { ...this.meetingState, before });
      this._emit("permissions", { canRecordLocally: this.canRecordLocally });
    } else if (ev.type === "MEETING_ENDED") {
      this._end("ended");
    }
    if (p?.id === this.me?.id && ev.type === "PARTICIPANT_UPDATED") this._emit("permissions", { canRecordLocally: this.canRecordLocally });
  }

  /** Whether this participant may record locally: hosts and co-hosts, or with the host's permission. */
  get canRecordLocally() {
    return HOST_ROLES.has(this.me?.role) || this.allowLocalRecording || Boolean(this.me?.localRecordingGranted);
  }

  /** Who records the meeting now: `cloud` ("recording" | "paused" | null) and `local` (participants). */
  get recordingState() {
    return { cloud: this.cloudRecording, local: [...this.participants.values()].filter((p) => p.recordingLocally) };
  }

  _emitRecordingState() {
    this._emit("recordingstate", this.recordingState);
  }

  _trackRecording(r, type = null) {
    const state = type ? CLOUD_RECORDING[type] : ACTIVE_RECORDING[r.status];
    if (state) this._activeRecordings.set(r.id, { state, roomId: r.breakoutRoom?.id ?? null });
    else this._activeRecordings.delete(r.id);
  }

  _cloudStateHere() {
    const here = this.me?.breakoutRoomId ?? null;
    for (const r of this._activeRecordings.values()) if (r.roomId === here) return r.state;
    return null;
  }

  // Tell the page only when what the person is shown changes: another room's recording starting or stopping is
  // not news to them ("Recording started" toasts follow their own room).
  _refreshCloudState(type, { quiet = false } = {}) {
    const state = this._cloudStateHere();
    if (state === this.cloudRecording) return;
    this.cloudRecording = state;
    this._emitRecordingState();
    if (!quiet) this._emit("cloudrecording", { state, type: type ?? (state === "paused" ? "RECORDING_PAUSED" : state ? "RECORDING_STARTED" : "RECORDING_STOPPED") });
  }

  // Muting sends nothing at all (replaceTrack(null)), not silence: no packets, no bandwidth.
  _applyMic(enabled) {
    this.micEnabled = enabled;
    const track = this.stream?.getAudioTracks()[0];
    if (track) track.enabled = enabled;
    this._mic?.sender.replaceTrack(enabled ? track : null);
  }

  async setMicEnabled(enabled) {
    if (!enabled) this._applyMic(false);
    await this._updateMyMedia({ audioMuted: !enabled }); // unmuting may be refused (host forbids self-unmute)
    if (enabled) this._applyMic(true);
  }

  async setCameraEnabled(enabled) {
    await this._applyCamera(enabled);
    await this._updateMyMedia({ videoOn: enabled });
  }

  async _applyCamera(enabled) {
    this.cameraEnabled = enabled;
    const track = this.stream?.getVideoTracks()[0];
    if (track) track.enabled = enabled;
    await this._camera?.sender.replaceTrack(enabled && track ? this.localVideoTrack() : null);
  }

  /** The video we send (and show as self-view): the camera through the background effect when one is on. */
  localVideoTrack() {
    return this._effect?.track ?? this.stream?.getVideoTracks()[0] ?? null;
  }

  /**
   * Blur or replace what is behind you: {type: "blur", strength: "light"|"strong"}, {type: "image", url}
   * (a picture: one of BUILTIN_BACKGROUNDS, a data:/blob: URL of an upload, or same-origin/CORS), or null (off).
   * The processed track replaces the camera on the sender (no renegotiation). Emits `background`.
   */
  async setBackground(spec) {
    const { BackgroundEffect, normalizeBackground } = await import("./background.js");
    spec = normalizeBackground(spec);
    const camera = this.stream?.getVideoTracks()[0];
    const old = this._effect;
    if (spec && camera) {
      if (old) await old.setBackground(spec);
      else this._effect = await BackgroundEffect.create(camera, spec);
    } else {
      this._effect = null;
    }
    this.background = spec;
    if (this._camera && this.cameraEnabled && camera) await this._camera.sender.replaceTrack(this.localVideoTrack());
    if (old && old !== this._effect) old.stop(); // after the sender moved off it: no gap in what is sent
    this._emit("background", { background: spec, track: this.localVideoTrack() });
  }

  /** Switch the microphone or camera to another device (deviceId from enumerateDevices) mid-meeting. */
  async switchDevice(kind, deviceId) {
    const video = kind === "videoinput";
    const fresh = await navigator.mediaDevices.getUserMedia(
      video ? { video: { deviceId: { exact: deviceId }, width: { ideal: 1280 }, height: { ideal: 720 } } } : { audio: { deviceId: { exact: deviceId } } },
    );
    const track = video ? fresh.getVideoTracks()[0] : fresh.getAudioTracks()[0];
    this.stream ??= new MediaStream();
    const old = video ? this.stream.getVideoTracks()[0] : this.stream.getAudioTracks()[0];
    if (old) {
      this.stream.removeTrack(old);
      old.stop();
    }
    this.stream.addTrack(track);
    const enabled = video ? this.cameraEnabled : this.micEnabled;
    track.enabled = enabled;
    if (video) this._effect?.setSource(track);
    const transceiver = video ? this._camera : this._mic;
    if (transceiver && enabled) await transceiver.sender.replaceTrack(video ? this.localVideoTrack() : track);
    this._emit("devicechanged", { kind, deviceId, track });
    return track;
  }

  /** Share the screen (getDisplayMedia), or `track` when given (a canvas, another capture). */
  async shareScreen(track = null) {
    if (this._screen) return this._screen.sender.track;
    if (!track) {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      track = display.getVideoTracks()[0];
    }
    track.addEventListener("ended", () => this.stopScreenShare());
    this._screen = this.media.publish(track, "screen", new MediaStream([track]));
    this._emit("screenshare", { active: true, track });
    await this._updateMyMedia({ sharing: true });
    return track;
  }

  async stopScreenShare() {
    if (!this._screen) return;
    const track = this._screen.sender.track;
    this.media.unpublish(this._screen);
    track?.stop();
    this._screen = null;
    this._emit("screenshare", { active: false, track: null });
    await this._updateMyMedia({ sharing: false });
  }

  get sharing() {
    return this._screen !== null;
  }

  get isHost() {
    return this.me?.role === "HOST" || this.me?.role === "COHOST";
  }

  /**
   * Send a chat message to everyone, or privately with `to` (a participant id); `attachmentId` from uploadFile;
   * `replyTo` the id of the message it answers.
   */
  async sendChat(text, { to = null, attachmentId = null, replyTo = null } = {}) {
    const i = { meetingId: this.meetingId, text, toParticipantId: to || null, attachmentId, replyToId: replyTo || null };
    return (await this.gql.request(`mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { ${CHAT_MESSAGE} } }`, { i })).sendChatMessage;
  }

  /** Delete a message (yours; hosts: any they can see); it stays as a tombstone. Resolves with it. */
  async deleteChatMessage(messageId) {
    return (await this.gql.request(`mutation($id: ID!) { deleteChatMessage(messageId: $id) { ${CHAT_MESSAGE} } }`, { id: messageId })).deleteChatMessage;
  }

  /** Change the text of one of your messages (everyone sees it marked edited). Resolves with it. */
  async editChatMessage(messageId, text) {
    return (await this.gql.request(`mutation($id: ID!, $t: String!) { editChatMessage(messageId: $id, text: $t) { ${CHAT_MESSAGE} } }`, { id: messageId, t: text })).editChatMessage;
  }

  /** Add your emoji (one of reactionChoices()) to a message, or take it back. Resolves with the message. */
  async toggleChatReaction(messageId, emoji) {
    return (await this.gql.request(`mutation($id: ID!, $e: String!) { toggleChatReaction(messageId: $id, emoji: $e) { ${CHAT_MESSAGE} } }`, { id: messageId, e: emoji })).toggleChatReaction;
  }

  /** Search this meeting's chat (what you can see), best match first: [{message, highlight: [{text, match}]}]. */
  async searchChat(query) {
    const q = `query($q: String!, $m: ID!) { searchChat(query: $q, meetingId: $m, first: 10) { message { ${CHAT_MESSAGE} } highlight { text match } } }`;
    return (await this.gql.request(q, { q: query, m: this.meetingId })).searchChat;
  }

  /** The chat so far (oldest first): what a late joiner missed, up to `pages` pages of 20. */
  async chatHistory({ pages = 3 } = {}) {
    // The page size is written into the document, so its cost is what it is (a variable counts as the largest
    // page); a message's reaction list counts as a page of its own, so pages are 20 and a late joiner gets three.
    const q = `query($m: ID!, $b: String) { chatMessages(meetingId: $m, first: 20, before: $b) { items { ${CHAT_MESSAGE} } nextCursor } }`;
    const items = [];
    let before = null;
    for (let i = 0; i < pages; i++) {
      const page = (await this.gql.request(q, { m: this.meetingId, b: before })).chatMessages;
      items.push(...page.items);
      before = page.nextCursor;
      if (!before) break;
    }
    return items.reverse();
  }

  /**
   * Upload a file for the chat (POST /meetings/{id}/files); resolves with {id, filename, contentType, size}.
   * `onProgress(sentBytes, totalBytes)` follows the upload (XMLHttpRequest: fetch cannot report upload progress).
   * Too large: rejects with code PAYLOAD_TOO_LARGE and `limit` (bytes) when the server says it.
   */
  uploadFile(file, { onProgress = null } = {}) {
    const url = `${this.gql.apiUrl}/meetings/${encodeURIComponent(this.meetingId)}/files?filename=${encodeURIComponent(file.name)}`;
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      if (this.gql.token) xhr.setRequestHeader("authorization", `Bearer ${this.gql.token}`);
      if (onProgress) xhr.upload.onprogress = (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : file.size);
      xhr.onerror = () => reject(Object.assign(new Error("upload failed (network)"), { code: "NETWORK" }));
      xhr.onload = () => {
        let body = {};
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON: the status says enough */
        }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
        const code = body.code || (xhr.status === 413 ? "PAYLOAD_TOO_LARGE" : null);
        const limit = Number(/at most (\d+) bytes/.exec(body.error ?? "")?.[1]) || null;
        reject(Object.assign(new Error(body.error || `upload failed (${xhr.status})`), { code, limit }));
      };
      xhr.send(file);
    });
  }

  /** The emoji sendReaction accepts. */
  async reactionChoices() {
    return (await this.gql.request(`query { meetingReactions }`)).meetingReactions;
  }

  async sendReaction(emoji) {
    await this.gql.request(`mutation($m: ID!, $e: String!) { sendReaction(meetingId: $m, emoji: $e) }`, { m: this.meetingId, e: emoji });
  }

  /**
   * A shared document of this meeting (docs/collaboration.md): "notes", or a whiteboard ("board:main", or
   * `room.boardName` for the board of the room this person is in). Resolves with a CollabProvider (its `ydoc`,
   * `awareness`, `writable`); Yjs is loaded on first use. Needs the page's import map for yjs, y-protocols and
   * lib0 (web/meeting.html). The provider is closed when the room ends.
   */
  async openDocument(doc = "notes") {
    const { CollabProvider } = await import("../collab/provider.js");
    const provider = new CollabProvider({ apiUrl: this.gql.apiUrl, meetingId: this.meetingId, doc, token: () => this.gql.token });
    this._unsubscribe.push(() => provider.destroy());
    return provider;
  }

  /** Who changed a shared document when, newest first: [{ author, at, updates, bytes }] (docs/collaboration.md). */
  async documentHistory(doc = "notes", limit = 100) {
    const q = `query($m: ID!, $d: String!, $l: Int!) { documentHistory(meetingId: $m, doc: $d, limit: $l) { author at updates bytes } }`;
    return (await this.gql.request(q, { m: this.meetingId, d: doc, l: limit })).documentHistory;
  }

  /** The whiteboard of where this person is: their breakout room's, else the main room's. */
  get boardName() {
    return this.me?.breakoutRoomId ? `board:${this.me.breakoutRoomId}` : "board:main";
  }

  get handRaised() {
    return Boolean(this.me?.handRaisedAt);
  }

  async setHandRaised(raised) {
    const op = raised ? "raiseHand" : "lowerMyHand";
    // Whole documents, never built from the operation's name: every document the client sends is checked
    // against the server's limits by reading this source (tests/unit/api/test_document_limits.py).
    const doc = raised
      ? `mutation($m: ID!) { raiseHand(meetingId: $m) { ${PARTICIPANT} } }`
      : `mutation($m: ID!) { lowerMyHand(meetingId: $m) { ${PARTICIPANT} } }`;
    this.me = (await this.gql.request(doc, { m: this.meetingId }))[op];
    this.participants.set(this.me.id, this.me);
    this._emit("participantupdated", this.me);
  }

  // Host and co-host controls of one participant: askToUnmute, stopVideo, makeCohost, revokeCohost, lowerHand.
  async _participantOp(op, participantId) {
    await this.gql.request(PARTICIPANT_OPS[op], { p: participantId });
  }

  askToUnmute(participantId) {
    return this._participantOp("askToUnmute", participantId);
  }

  stopVideo(participantId) {
    return this._participantOp("stopVideo", participantId);
  }

  makeCohost(participantId) {
    return this._participantOp("makeCohost", participantId);
  }

  /** Host: hand the meeting over to a signed-in participant (you stay, as a participant). */
  transferHost(participantId) {
    return this._participantOp("transferHost", participantId);
  }

  revokeCohost(participantId) {
    return this._participantOp("revokeCohost", participantId);
  }

  lowerHand(participantId) {
    return this._participantOp("lowerHand", participantId);
  }

  async renameParticipant(participantId, displayName) {
    await this.gql.request(`mutation($p: ID!, $n: String!) { renameParticipant(participantId: $p, displayName: $n) { id } }`, { p: participantId, n: displayName });
  }

  /** Spotlight someone for everyone (null clears it). */
  async spotlight(participantId) {
    await this.gql.request(`mutation($m: ID!, $p: ID) { spotlight(meetingId: $m, participantId: $p) { id } }`, { m: this.meetingId, p: participantId });
  }

  // Meeting-wide host controls: muteAll, admitAll, lock, waiting room, self-unmute, end for all.
  async _meetingOp(op, vars = {}) {
    await this.gql.request(MEETING_OPS[op], { m: this.meetingId, ...vars });
  }

  muteAll() {
    return this._meetingOp("muteAll");
  }

  admitAll() {
    return this._meetingOp("admitAll");
  }

  lowerAllHands() {
    return this._meetingOp("lowerAllHands");
  }

  setLocked(locked) {
    return this._meetingOp(locked ? "lockMeeting" : "unlockMeeting");
  }

  setWaitingRoom(enabled) {
    return this._meetingOp("setWaitingRoom", { enabled });
  }

  setAllowSelfUnmute(allowed) {
    return this._meetingOp("setAllowSelfUnmute", { allowed });
  }

  // Polls: hosts create and launch, everyone votes, hosts end and share the results.
  async polls() {
    // Two documents, each well inside the server's cost limit (a list of polls with their options and results
    // in one would cost over a tenth of it); merged by id.
    const [base, counts] = await Promise.all([
      this.gql.request(`query($m: ID!) { polls(meetingId: $m) { ${POLL_BASE} } }`, { m: this.meetingId }),
      this.gql.request(`query($m: ID!) { polls(meetingId: $m) { id ${POLL_RESULTS} } }`, { m: this.meetingId }),
    ]);
    const results = new Map(counts.polls.map((p) => [p.id, p.results]));
    return base.polls.map((p) => ({ ...p, results: results.get(p.id) ?? null }));
  }

  async createPoll({ question, options, kind = "SINGLE", anonymous = false }) {
    const i = { meetingId: this.meetingId, question, options, kind, anonymous };
    return (await this.gql.request(`mutation($i: CreatePollInput!) { createPoll(input: $i) { ${POLL} } }`, { i })).createPoll;
  }

  async _pollOp(op, pollId) {
    return (await this.gql.request(POLL_OPS[op], { p: pollId }))[op];
  }

  launchPoll(pollId) {
    return this._pollOp("launchPoll", pollId);
  }

  endPoll(pollId) {
    return this._pollOp("endPoll", pollId);
  }

  sharePollResults(pollId) {
    return this._pollOp("sharePollResults", pollId);
  }

  async votePoll(pollId, optionIds) {
    return (await this.gql.request(`mutation($p: ID!, $o: [ID!]!) { votePoll(pollId: $p, optionIds: $o) { ${POLL} } }`, { p: pollId, o: optionIds })).votePoll;
  }

  // Breakout rooms: hosts create, assign, open (with a timer), broadcast, close; participants ask for help.
  /** The breakout session as BreakoutState (rooms' participantIds), plus the plan for hosts. */
  async breakoutSession({ plan = this.isHost } = {}) {
    // Two whole documents (hosts see the plan too): the limits test reads every document from this source.
    const q = plan
      ? `query($m: ID!) { breakoutSession(meetingId: $m) { ${SESSION_FIELDS} rooms { id name participants { id } assignedParticipants { id } } unassignedParticipants { id displayName } } }`
      : `query($m: ID!) { breakoutSession(meetingId: $m) { ${SESSION_FIELDS} rooms { id name participants { id } } } }`;
    const s = (await this.gql.request(q, { m: this.meetingId })).breakoutSession;
    return { ...s, rooms: s.rooms.map((r) => ({ ...r, participantIds: r.participants.map((p) => p.id) })) };
  }

  async createBreakoutRooms(count) {
    await this.gql.request(`mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { status } }`, { i: { meetingId: this.meetingId, count } });
  }

  async assignBreakoutRoom(participantId, roomId) {
    const i = { meetingId: this.meetingId, assignments: [{ participantId, roomId: roomId || null }] };
    await this.gql.request(`mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }`, { i });
  }

  async autoAssignBreakoutRooms() {
    await this.gql.request(`mutation($i: AutoAssignBreakoutRoomsInput!) { autoAssignBreakoutRooms(input: $i) { status } }`, { i: { meetingId: this.meetingId } });
  }

  async openBreakoutRooms(durationMinutes = null) {
    const i = { meetingId: this.meetingId, durationMinutes: durationMinutes || null };
    await this.gql.request(`mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }`, { i });
  }

  async closeBreakoutRooms(graceSeconds = 60) {
    await this.gql.request(`mutation($m: ID!, $g: Int!) { closeBreakoutRooms(meetingId: $m, graceSeconds: $g) { status } }`, { m: this.meetingId, g: graceSeconds });
  }

  async broadcastToBreakoutRooms(message) {
    await this.gql.request(`mutation($i: BroadcastToBreakoutRoomsInput!) { broadcastToBreakoutRooms(input: $i) { seq } }`, { i: { meetingId: this.meetingId, message } });
  }

  async askForBreakoutHelp() {
    await this.gql.request(`mutation($m: ID!) { askForBreakoutHelp(meetingId: $m) { seq } }`, { m: this.meetingId });
  }

  /** End the meeting for everyone (host). */
  async endForAll() {
    await this.gql.request(`mutation($m: ID!) { endMeeting(id: $m) { id } }`, { m: this.meetingId });
  }

  /** Host and co-hosts: start or stop the cloud recording (everyone is told; the page shows the indicator). */
  async startCloudRecording() {
    await this.gql.request(`mutation($m: ID!) { startRecording(meetingId: $m) { id } }`, { m: this.meetingId });
  }

  async stopCloudRecording() {
    await this.gql.request(`mutation($m: ID!) { stopRecording(meetingId: $m) { id } }`, { m: this.meetingId });
  }

  async muteParticipant(participantId) {
    await this.gql.request(`mutation($p: ID!) { muteParticipant(participantId: $p) { id } }`, { p: participantId });
  }

  async admitParticipant(participantId) {
    await this.gql.request(`mutation($p: ID!) { admitParticipant(participantId: $p) { id } }`, { p: participantId });
  }

  async denyParticipant(participantId) {
    await this.gql.request(`mutation($p: ID!) { denyParticipant(participantId: $p) { id } }`, { p: participantId });
  }

  /** Remove someone; by default they cannot come back (`{ allowRejoin: true }` lets them). */
  async removeParticipant(participantId, { allowRejoin = false } = {}) {
    await this.gql.request(`mutation($p: ID!, $b: Boolean) { removeParticipant(participantId: $p, block: $b) { id } }`, { p: participantId, b: !allowRejoin });
  }

  /** The link to share (it lets people in without typing the passcode). */
  async inviteLink() {
    return (await this.gql.request(`query($m: ID!) { meeting(id: $m) { inviteLink } }`, { m: this.meetingId })).meeting.inviteLink;
  }

  /** Host and co-hosts: let someone record locally, or withdraw it (their recording stops). */
  async allowLocalRecordingFor(participantId, allowed) {
    await this.gql.request(`mutation($p: ID!, $ok: Boolean!) { allowLocalRecording(participantId: $p, allowed: $ok) { id } }`, { p: participantId, ok: allowed });
  }

  async leave() {
    if (this.state === "left" || this.state === "ended") return;
    this.media?.leave();
    try {
      if (this.meetingId) await this.gql.request(`mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }`, { m: this.meetingId });
    } finally {
      this._stop();
      this.state = "left";
      this._emit("left", {});
    }
  }

  /**
   * Record the meeting in this browser (nothing reaches the server): video tiles drawn as a grid, all audio
   * mixed. `tiles()` may return the [{video, label}] to draw (the element passes its visible tiles); by
   * default every live camera and screen track is drawn. Emits localrecording {active: true}.
   */
  async startLocalRecording({ tiles = null, fps = 15 } = {}) {
    if (this._localRecorder) return;
    // Loaded when first used: most people never record locally, so the meeting page does not fetch it.
    const { LocalRecorder } = await import("./localrecording.js");
    // Consent first: the server refuses (FORBIDDEN) without the host's permission, and tells everyone otherwise.
    await this._setLocalRecording(true);
    const recorder = new LocalRecorder({ sources: () => ({ tiles: tiles ? tiles() : this._trackTiles(), audio: this._audioTracks() }), fps });
    this._localRecorder = recorder;
    try {
      await recorder.start();
    } catch (err) {
      this._localRecorder = null;
      await recorder.stop();
      await this._setLocalRecording(false).catch(() => {});
      throw err;
    }
    this._emit("localrecording", { active: true });
  }

  async _setLocalRecording(recording) {
    await this.gql.request(`mutation($m: ID!, $on: Boolean!) { setLocalRecording(meetingId: $m, recording: $on) { id } }`, { m: this.meetingId, on: recording });
  }

  /** Stop recording locally: resolves with the Blob (WebM) and emits localrecording {active: false, blob, filename}. */
  async stopLocalRecording() {
    const recorder = this._localRecorder;
    if (!recorder) return null;
    this._localRecorder = null;
    this._recordingVideos?.forEach((v) => (v.srcObject = null));
    this._recordingVideos = null;
    const blob = await recorder.stop();
    const { localRecordingFilename } = await import("./localrecording.js");
    this._emit("localrecording", { active: false, blob, filename: localRecordingFilename(this.number, blob.type) });
    // Tell everyone it stopped (leaving says so by itself; the server may also have stopped us already).
    if (this.state === "connected" || this.state === "reconnecting") await this._setLocalRecording(false).catch(() => {});
    return blob;
  }

  get localRecording() {
    return this._localRecorder !== null;
  }

  // Remote tracks come from the current media session, so a reconnect mid-recording is followed.
  _remoteTracks() {
    return this.media ? [...this.media.remote.values()].filter((r) => r.track?.readyState === "live") : [];
  }

  _audioTracks() {
    const mic = this.micEnabled ? this.stream?.getAudioTracks()[0] : null;
    return [...(mic ? [mic] : []), ...this._remoteTracks().filter((r) => r.track.kind === "audio").map((r) => r.track)];
  }

  // Without the element: one detached <video> per track (drawImage needs an element, not a track).
  _trackTiles() {
    const videos = (this._recordingVideos ??= new Map());
    const wanted = [];
    const camera = this.cameraEnabled ? this.localVideoTrack() : null;
    if (camera) wanted.push({ track: camera, label: `${this.me?.displayName ?? ""} (you)` });
    for (const r of this._remoteTracks()) {
      if (r.track.kind === "video") wanted.push({ track: r.track, label: this.participants.get(r.participantId)?.displayName ?? "" });
    }
    const keep = new Set(wanted.map((w) => w.track));
    for (const [track, video] of videos) {
      if (!keep.has(track)) {
        video.srcObject = null;
        videos.delete(track);
      }
    }
    return wanted.map(({ track, label }) => {
      let video = videos.get(track);
      if (!video) {
        video = Object.assign(document.createElement("video"), { muted: true, playsInline: true, srcObject: new MediaStream([track]) });
        video.play().catch(() => {});
        videos.set(track, video);
      }
      return { video, label };
    });
  }

  /** The media connection's round trip to the edge (ms), null before it is measured. */
  async roundTripMs() {
    return this.media ? this.media.roundTripMs() : null;
  }

  /** Inbound media stats per remote track (see MediaSession.inboundStats). */
  async stats() {
    return this.media ? this.media.inboundStats() : [];
  }

  async _updateMyMedia(input) {
    if (this.state !== "connected") return;
    await this.gql.request(`mutation($m: ID!, $i: UpdateMyMediaInput!) { updateMyMedia(meetingId: $m, input: $i) { id } }`, { m: this.meetingId, i: input });
  }

  _end(reason) {
    if (this.state === "ended" || this.state === "left") return;
    this._stop();
    this.media?.close();
    this.state = "ended";
    this._emit("ended", { reason });
  }

  _stop() {
    for (const close of this._unsubscribe.splice(0)) close();
    // Leaving ends a local recording too; what was recorded is kept (the localrecording event carries it).
    if (this._localRecorder) this.stopLocalRecording();
    this._screen?.sender.track?.stop();
    this._effect?.stop();
    this._effect = null;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** Join a meeting: `await join({number, displayName, stream})` → a connected Room. */
export async function join(options) {
  const room = new Room(options);
  await room.join();
  return room;
}

const PROBE_BUDGET_MS = 1000;

/**
 * Time one request to each media edge's probe URL (in parallel, all within ~1 s) so the join token names the
 * nearest edge. No edges registered, or the query failing, means no measurements: joining goes on regardless.
 */
export async function probeEdges(gql, { budgetMs = PROBE_BUDGET_MS } = {}) {
  let edges;
  try {
    edges = (await gql.request(`query { mediaEdges { id region probeUrl } }`)).mediaEdges;
  } catch {
    return [];
  }
  if (!edges?.length) return [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), budgetMs);
  const timed = await Promise.all(
    edges.slice(0, 32).map(async (edge) => {
      const start = performance.now();
      try {
        // no-cors: an opaque answer is enough to time the round trip; no-store: never a cached one.
        await fetch(edge.probeUrl, { mode: "no-cors", cache: "no-store", signal: controller.signal });
        return { edgeId: edge.id, rttMs: Math.round((performance.now() - start) * 10) / 10 };
      } catch {
        return null; // unreachable or too slow: not a candidate
      }
    }),
  );
  clearTimeout(timer);
  return timed.filter(Boolean);
}
