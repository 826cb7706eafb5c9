// A meeting's notes and main-room whiteboard on a page of their own (web/documents.html, /d/<meeting id>): what was
// written and drawn stays readable after the meeting even when nothing was recorded. Linked from the home page's
// past meetings. The API decides who may open them (docs/collaboration.md: everyone who attended; read only once
// the meeting has ended).

import { GraphQLClient } from "/web/sdk/graphql.js";
import { showDocuments } from "/web/recording_documents.js";

const $ = (role) => document.querySelector(`[data-role="${role}"]`);
const meetingId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
const token = () => localStorage.getItem("meetmesh.accessToken");

async function load() {
  try {
    const { meeting } = await new GraphQLClient(location.origin, token()).request(`query($id: ID!) { meeting(id: $id) { id title } }`, { id: meetingId });
    document.title = `${meeting.title} - notes and whiteboard - meetmesh`;
    $("title").textContent = `${meeting.title}: notes and whiteboard`;
    showDocuments($("documents"), { meetingId: meeting.id, breakoutRoom: null }, token);
  } catch (err) {
    const why = { UNAUTHENTICATED: "Sign in first (only the meeting's participants may read these), then reload this page.", FORBIDDEN: "Only the meeting's participants may read its notes and whiteboard.", NOT_FOUND: "This meeting does not exist." };
    Object.assign($("error"), { hidden: false, textContent: why[err.code] ?? `Could not load the meeting: ${err.message}` });
  }
}

load();
