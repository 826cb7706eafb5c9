"""Every GraphQL document the SDK sends. tests/unit/sdk/test_operations.py validates each one against
api/schema.graphql, so a renamed or removed field fails a test instead of a user's call."""

from __future__ import annotations

USER = "fragment U on User { id email displayName }"
PARTICIPANT = """fragment P on Participant { id meetingId displayName role state waitingReason isGuest audioMuted
  mutedByHost videoOn sharing handRaisedAt breakoutRoomId }"""
# Not the passcode: only hosts may read it (others get FORBIDDEN), so only host-only operations select it.
MEETING = """fragment M on Meeting { id number title description status startsAt durationMinutes timezone
  hasPasscode locked inviteLink eventSeq myRole myParticipantId }"""
CHAT = """fragment C on ChatMessage { id meetingId senderId senderName recipientId isPrivate text createdAt
  editedAt deleted }"""
POLL = """fragment Q on Poll { id meetingId question kind anonymous status resultsShared options { id text }
  results { voterCount options { optionId votes percent } } }"""
RECORDING = """fragment R on Recording { id meetingId title status startedAt stoppedAt recordedSeconds progress
  error media { name contentType size url } transcript { start end speakerId speakerName text language } }"""
CALENDAR_LINKS = """fragment L on CalendarLinks { ics google outlook office365 sequence includesPasscode
  skippedOccurrences }"""
AUTH = "fragment A on AuthPayload { accessToken refreshToken expiresIn user { ...U } }"

# Accounts
SIGN_UP = "mutation($i: SignUpInput!) { r: signUp(input: $i) { ...A } }" + AUTH + USER
LOG_IN = "mutation($i: LogInInput!) { r: logIn(input: $i) { ...A } }" + AUTH + USER
REFRESH = "mutation($t: String!) { r: refreshTokens(refreshToken: $t) { ...A } }" + AUTH + USER
LOG_OUT = "mutation($t: String!) { r: logOut(refreshToken: $t) }"
ME = "query { r: me { ...U } }" + USER

# Meetings
CREATE_MEETING = "mutation($i: CreateMeetingInput!) { r: createMeeting(input: $i) { ...M passcode } }" + MEETING
UPDATE_MEETING = (
    "mutation($id: ID!, $i: UpdateMeetingInput!) { r: updateMeeting(id: $id, input: $i) { ...M passcode } }" + MEETING
)
END_MEETING = "mutation($id: ID!) { r: endMeeting(id: $id) { ...M } }" + MEETING
CANCEL_MEETING = "mutation($id: ID!) { r: cancelMeeting(id: $id) { ...M } }" + MEETING
MEETING_QUERY = "query($id: ID!) { r: meeting(id: $id) { ...M } }" + MEETING
PARTICIPANTS = (
    "query($id: ID!, $s: [ParticipantState!]) { r: meeting(id: $id) { participants(states: $s) { ...P } } }"
    + PARTICIPANT
)
MY_MEETINGS = (
    "query($f: MeetingListFilter!, $n: Int!, $a: String) { r: myMeetings(filter: $f, first: $n, after: $a) "
    "{ items { ...M } nextCursor } }" + MEETING
)

# Invitations: the server mails the iTIP invitations (iMIP) itself; the answers are the invitees' addresses.
INVITE = "mutation($m: ID!, $e: [String!]!) { r: inviteToMeeting(meetingId: $m, emails: $e) }"
UNINVITE = "mutation($m: ID!, $e: [String!]!) { r: uninviteFromMeeting(meetingId: $m, emails: $e) }"
INVITEES = "query($m: ID!) { r: meetingInvitees(meetingId: $m) }"
SET_CALENDAR_OPTIONS = (
    "mutation($m: ID!, $p: Boolean!) { r: setMeetingCalendarOptions(meetingId: $m, includePasscode: $p) { ...L } }"
    + CALENDAR_LINKS
)

# Joining
JOIN = (
    """mutation($i: JoinMeetingInput!) { r: joinMeeting(input: $i) { status meetingId guestToken eventSeq
  clientToken participant { ...P } joinToken { token expiresAt edgeUrl } } }"""
    + PARTICIPANT
)
LEAVE = "mutation($m: ID!) { r: leaveMeeting(meetingId: $m) { ...P } }" + PARTICIPANT
RAISE_HAND = "mutation($m: ID!) { r: raiseHand(meetingId: $m) { ...P } }" + PARTICIPANT
LOWER_MY_HAND = "mutation($m: ID!) { r: lowerMyHand(meetingId: $m) { ...P } }" + PARTICIPANT

# Host controls on one participant: mutation name -> document (all take $p: ID! and answer a Participant).
PARTICIPANT_CONTROLS = {
    name: f"mutation($p: ID!) {{ r: {name}(participantId: $p) {{ ...P }} }}" + PARTICIPANT
    for name in (
        "admitParticipant",
        "denyParticipant",
        "muteParticipant",
        "askToUnmute",
        "stopVideo",
        "makeCohost",
        "revokeCohost",
        "transferHost",
        "lowerHand",
    )
}
REMOVE_PARTICIPANT = (
    "mutation($p: ID!, $b: Boolean!) { r: removeParticipant(participantId: $p, block: $b) { ...P } }" + PARTICIPANT
)
RENAME_PARTICIPANT = (
    "mutation($p: ID!, $n: String!) { r: renameParticipant(participantId: $p, displayName: $n) { ...P } }" + PARTICIPANT
)
# Host controls on the whole meeting (all take $m: ID! and answer a Meeting).
MEETING_CONTROLS = {
    name: f"mutation($m: ID!) {{ r: {name}(meetingId: $m) {{ ...M }} }}" + MEETING
    for name in ("admitAll", "denyAll", "lockMeeting", "unlockMeeting", "lowerAllHands")
}
MUTE_ALL = "mutation($m: ID!, $a: Boolean) { r: muteAll(meetingId: $m, allowSelfUnmute: $a) { ...M } }" + MEETING
SET_WAITING_ROOM = (
    "mutation($m: ID!, $e: Boolean!) { r: setWaitingRoom(meetingId: $m, enabled: $e) { ...M } }" + MEETING
)
SPOTLIGHT = "mutation($m: ID!, $p: ID) { r: spotlight(meetingId: $m, participantId: $p) { ...M } }" + MEETING

# Chat
SEND_CHAT = "mutation($i: SendChatMessageInput!) { r: sendChatMessage(input: $i) { ...C } }" + CHAT
EDIT_CHAT = "mutation($id: ID!, $t: String!) { r: editChatMessage(messageId: $id, text: $t) { ...C } }" + CHAT
DELETE_CHAT = "mutation($id: ID!) { r: deleteChatMessage(messageId: $id) { ...C } }" + CHAT
CHAT_HISTORY = (
    "query($m: ID!, $n: Int!, $b: String) { r: chatMessages(meetingId: $m, first: $n, before: $b) "
    "{ items { ...C } nextCursor } }" + CHAT
)

# Polls
CREATE_POLL = "mutation($i: CreatePollInput!) { r: createPoll(input: $i) { ...Q } }" + POLL
LAUNCH_POLL = "mutation($id: ID!) { r: launchPoll(pollId: $id) { ...Q } }" + POLL
VOTE_POLL = "mutation($id: ID!, $o: [ID!]!) { r: votePoll(pollId: $id, optionIds: $o) { ...Q } }" + POLL
END_POLL = "mutation($id: ID!) { r: endPoll(pollId: $id) { ...Q } }" + POLL
SHARE_POLL = "mutation($id: ID!) { r: sharePollResults(pollId: $id) { ...Q } }" + POLL
POLLS = "query($m: ID!) { r: polls(meetingId: $m) { ...Q } }" + POLL

# Recordings and transcripts
START_RECORDING = "mutation($m: ID!) { r: startRecording(meetingId: $m) { ...R } }" + RECORDING
STOP_RECORDING = "mutation($m: ID!) { r: stopRecording(meetingId: $m) { ...R } }" + RECORDING
RECORDINGS = "query($m: ID!) { r: recordings(meetingId: $m) { ...R } }" + RECORDING
RECORDING_QUERY = "query($id: ID!) { r: recording(id: $id) { ...R } }" + RECORDING

# Webhook endpoints (the owner's account)
CREATE_WEBHOOK = """mutation($i: CreateWebhookEndpointInput!) { r: createWebhookEndpoint(input: $i) { secret
  endpoint { id url enabled verified eventTypes } } }"""
DELETE_WEBHOOK = "mutation($id: ID!) { r: deleteWebhookEndpoint(id: $id) }"

# Subscriptions: one selection for every event type; the SDK decodes what each carries.
EVENT = """fragment E on MeetingEvent { __typename seq type meetingId at actorId roomId
  ... on ParticipantEvent { participant { ...P } }
  ... on ChatMessageEvent { message { ...C } } }"""
MEETING_EVENTS = (
    "subscription($m: ID!, $after: Int) { r: meetingEvents(meetingId: $m, afterSeq: $after) { ...E } }"
    + EVENT
    + PARTICIPANT
    + CHAT
)
MY_EVENTS = (
    "subscription($m: ID!, $after: Int) { r: myEvents(meetingId: $m, afterSeq: $after) { ...E } }"
    + EVENT
    + PARTICIPANT
    + CHAT
)


def all_documents() -> dict[str, str]:
    """Every document by a readable name (for the drift test)."""
    docs = {k: v for k, v in globals().items() if k.isupper() and isinstance(v, str) and v.lstrip()[:1] in "mqs"}
    docs.update({f"PARTICIPANT_CONTROLS.{k}": v for k, v in PARTICIPANT_CONTROLS.items()})
    docs.update({f"MEETING_CONTROLS.{k}": v for k, v in MEETING_CONTROLS.items()})
    return docs
