// The meeting's shared notes and whiteboard on its recording page (web/play.html): what was written and drawn stays
// readable next to the recording. Opened on demand (Yjs loads only then) for the meeting's members - the same
// people who may watch /r/<id>; the API decides (docs/collaboration.md: after a meeting, everyone who attended may
// read its documents, nobody may change them). A breakout room's recording shows that room's board.
//
//   showDocuments(section, recording, token)

import { STYLE } from "/web/sdk/style.js";

export function boardOf(recording) {
  return recording.breakoutRoom ? `board:${recording.breakoutRoom.id}` : "board:main";
}

export function showDocuments(section, recording, token) {
  const status = section.querySelector('[data-role="document-status"]');
  const host = section.querySelector('[data-role="document"]');
  const root = host.attachShadow({ mode: "open" });
  let open = null; // {which, provider, view}
  section.hidden = false;

  async function openDocument(which) {
    if (open?.which === which) return;
    close();
    for (const b of section.querySelectorAll("[data-open-doc]")) b.setAttribute("aria-pressed", String(b.dataset.openDoc === which));
    status.textContent = "Opening…";
    const [{ CollabProvider, mountLive }, mod] = await Promise.all([
      import("/web/collab/provider.js"),
      which === "notes" ? import("/web/collab/notes.js") : import("/web/collab/board.js"),
    ]);
    // The meeting element's styles, in a shadow root of our own: the panels look as they did in the meeting.
    root.innerHTML = `<style>${STYLE}</style><div class="panel-body" data-role="body"></div>`;
    host.setAttribute("theme", "light");
    const body = root.querySelector('[data-role="body"]');
    const doc = which === "notes" ? "notes" : boardOf(recording);
    const provider = new CollabProvider({ meetingId: recording.meetingId, doc, token });
    provider.addEventListener("synced", () => (status.textContent = provider.writable ? "" : "Read only: the meeting has ended."));
    provider.addEventListener("denied", () => (status.textContent = "You may not open this meeting's documents."));
    provider.addEventListener("error", (ev) => {
      status.textContent = ev.detail.code === 4403 ? "You may not open this meeting's documents." : `Could not open it: ${ev.detail.reason || ev.detail.code}`;
    });
    const view = mountLive(provider, () => (which === "notes" ? mod.mountNotes(body, provider) : mod.mountBoard(body, provider)));
    open = { which, provider, view };
  }

  function close() {
    open?.view.destroy();
    open?.provider.destroy();
    open = null;
  }

  for (const b of section.querySelectorAll("[data-open-doc]")) b.addEventListener("click", () => openDocument(b.dataset.openDoc));
  addEventListener("pagehide", close);
}
