// The recording player (web/play.html): /r/<recording id> for the meeting's members (the access token the
// landing page keeps in localStorage), /s/<share id> for holders of a share link (asks for the passcode when
// the API answers BAD_PASSCODE). Video (or audio only), speed, captions (WebVTT <track>), and a transcript
// panel with search and click-to-seek; for members, the meeting's notes and whiteboard below
// (web/recording_documents.js). Everything users wrote is set as text, never as HTML.

import { GraphQLClient } from "/web/sdk/graphql.js";
import { showDocuments } from "/web/recording_documents.js";

const FIELDS = `id meetingId breakoutRoom { id } title status progress error media { name url } transcript { start end speakerName text language }`;
const BY_ID = `query($id: ID!) { recording(id: $id) { ${FIELDS} } }`;
const SHARED = `query($s: ID!, $p: String) { sharedRecording(shareId: $s, passcode: $p) { ${FIELDS} } }`;
const RELOAD_WHILE_PROCESSING_MS = 5000;

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const [kind, id] = location.pathname.split("/").filter(Boolean).map(decodeURIComponent); // "r" | "s", id
const gql = new GraphQLClient(location.origin, kind === "r" ? localStorage.getItem("meetmesh.accessToken") : null);
let passcode = null;
let lines = []; // [{start, end, speakerName, text, el}]
let media = null; // the <video> or <audio>

function showError(text) {
  Object.assign($("error"), { hidden: false, textContent: text });
}

// What a person can act on, per error code (the API's own message is appended for the rest).
function explain(err) {
  const shared = kind === "s";
  switch (err.code) {
    case "NOT_FOUND":
      return shared ? "This share link does not exist (or its recording was deleted)." : "This recording does not exist (or was deleted).";
    case "FORBIDDEN":
      return shared ? "This share link has expired. Ask for a new one." : "You may not watch this recording: only the meeting's participants may.";
    case "UNAUTHENTICATED":
      return "Sign in to watch this recording (only the meeting's participants may), then reload this page.";
    case "RATE_LIMITED":
      return "Too many wrong passcodes. Wait a few minutes, then try again.";
    default:
      return `Could not load the recording: ${err.message}`;
  }
}

async function load() {
  $("error").hidden = true;
  let rec;
  try {
    rec = kind === "s" ? (await gql.request(SHARED, { s: id, p: passcode })).sharedRecording : (await gql.request(BY_ID, { id })).recording;
  } catch (err) {
    if (err.code === "BAD_PASSCODE") {
      $("passcode-form").hidden = false;
      if (passcode !== null) showError("Wrong passcode. Try again.");
      $("passcode").focus();
    } else {
      $("passcode-form").hidden = true;
      showError(explain(err));
    }
    return;
  }
  $("passcode-form").hidden = true;
  show(rec);
  // Members (not share-link holders) also get the meeting's notes and whiteboard.
  if (kind === "r" && $("documents").hidden) showDocuments($("documents"), rec, () => localStorage.getItem("meetmesh.accessToken"));
}

function show(rec) {
  document.title = `${rec.title} - meetmesh`;
  $("title").textContent = rec.title;
  const files = Object.fromEntries(rec.media.map((f) => [f.name, sameOrigin(f.url)]));
  const source = files["recording.mp4"] ?? files["audio.m4a"];
  if (!source) {
    if (rec.status === "FAILED") showError(`This recording could not be processed: ${rec.error ?? "unknown error"}`);
    else {
      $("status").textContent = rec.status === "READY" ? "This recording has no media." : `Not ready yet: ${rec.status.toLowerCase()} (${rec.progress}%).`;
      if (rec.status !== "READY") setTimeout(load, RELOAD_WHILE_PROCESSING_MS);
    }
    return;
  }
  $("status").textContent = "";
  media = document.createElement(files["recording.mp4"] ? "video" : "audio");
  Object.assign(media, { controls: true, preload: "metadata", src: source });
  if (media.tagName === "VIDEO" && files["poster.jpg"]) media.poster = files["poster.jpg"];
  if (files["captions.vtt"]) {
    const track = Object.assign(document.createElement("track"), { kind: "captions", srclang: mainLanguage(rec.transcript), label: "Captions", src: files["captions.vtt"], default: true });
    media.append(track);
    // `default` shows them once loaded; "hidden" (checkbox off) still loads the cues.
    $("captions").addEventListener("change", (ev) => (track.track.mode = ev.target.checked ? "showing" : "hidden"));
  } else {
    $("captions").disabled = true;
  }
  media.addEventListener("timeupdate", markCurrent);
  // A new source resets the rate to 1: apply what the control says each time metadata arrives.
  media.addEventListener("loadedmetadata", () => (media.playbackRate = Number($("speed").value)));
  $("screen").replaceChildren(media);
  renderTranscript(rec.transcript);
  $("player").hidden = false;
}

// Signed URLs carry the API's configured public origin; this page was served by that API, so the same path
// on our own origin is the same file - and keeps <track> same-origin, which it must be without CORS.
function sameOrigin(url) {
  const u = new URL(url, location.origin);
  return u.pathname + u.search;
}

function clock(seconds) {
  const s = Math.floor(seconds);
  const hms = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60];
  return (hms[0] ? hms : hms.slice(1)).map((n, i) => (i ? String(n).padStart(2, "0") : String(n))).join(":");
}

// The captions track's language: the one most lines were transcribed in (cues in others carry <lang> spans).
function mainLanguage(transcript) {
  const count = new Map();
  for (const line of transcript) if (line.language) count.set(line.language, (count.get(line.language) ?? 0) + 1);
  return [...count].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "en";
}

function renderTranscript(transcript) {
  lines = transcript.map((line) => {
    const el = document.createElement("li");
    el.dataset.start = String(line.start);
    const time = Object.assign(document.createElement("time"), { textContent: clock(line.start) });
    const speaker = Object.assign(document.createElement("span"), { className: "speaker", textContent: `${line.speakerName}: ` });
    const text = Object.assign(document.createElement("span"), { className: "text", textContent: line.text });
    if (line.language) text.lang = line.language;
    el.append(time, speaker, text);
    return { ...line, el };
  });
  $("transcript").replaceChildren(...lines.map((l) => l.el));
  $("transcript-empty").hidden = lines.length > 0;
}

// Case-insensitive substring search over speaker and text; matches in the text are wrapped in <mark> built
// from text nodes.
function search(query) {
  const q = query.trim().toLowerCase();
  for (const line of lines) {
    const hit = !q || `${line.speakerName}: ${line.text}`.toLowerCase().includes(q);
    line.el.hidden = !hit;
    line.el.querySelector(".text").replaceChildren(...highlighted(line.text, q));
  }
}

function highlighted(text, q) {
  if (!q) return [document.createTextNode(text)];
  const out = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(q); i !== -1; i = lower.indexOf(q, i + q.length)) {
    if (i > at) out.push(document.createTextNode(text.slice(at, i)));
    out.push(Object.assign(document.createElement("mark"), { textContent: text.slice(i, i + q.length) }));
    at = i + q.length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

function markCurrent() {
  const t = media.currentTime;
  let current = null;
  for (const line of lines) if (line.start <= t) current = line;
  for (const line of lines) line.el.classList.toggle("current", line === current);
}

$("speed").addEventListener("change", (ev) => media && (media.playbackRate = Number(ev.target.value)));
$("search").addEventListener("input", (ev) => search(ev.target.value));
$("transcript").addEventListener("click", (ev) => {
  const li = ev.target.closest("li[data-start]");
  if (!li || !media) return;
  media.currentTime = Number(li.dataset.start);
  media.play().catch(() => {}); // autoplay may be refused; the seek stands either way
});
$("passcode-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  passcode = $("passcode").value;
  load();
});

if ((kind === "r" || kind === "s") && id) load();
else showError("This is not a recording address.");
