// The string catalogue: t(key, vars) in the reader's language, and errorText(err) turning an API error code into
// a sentence. The language is ?lang=…, else localStorage["meetmesh.lang"] (the language menu), else the first
// of navigator.languages we have, else English. Plain module, no dependencies: the SDK element uses it too.
// English is always here (the fallback for every key); another language's catalogue is fetched only for its
// readers (a top-level await, so importers see it loaded): an English page does not download German.
import en from "./en.js";

const LOADERS = { en: async () => en, de: async () => (await import("./de.js")).default };
const CATALOGUES = { en };
export const LANGUAGES = { en: "English", de: "Deutsch" };

function pick() {
  const wanted = [];
  try {
    const q = new URLSearchParams(location.search).get("lang");
    if (q) wanted.push(q);
    const stored = localStorage.getItem("meetmesh.lang");
    if (stored) wanted.push(stored);
  } catch {
    /* storage blocked (embedded in a sandboxed frame): use the browser's languages */
  }
  wanted.push(...(navigator.languages || [navigator.language || "en"]));
  for (const tag of wanted) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LOADERS[base]) return base;
  }
  return "en";
}

export let lang = pick();
if (!CATALOGUES[lang]) CATALOGUES[lang] = await LOADERS[lang]();

/** Choose a language for good (stored at once) and for this page (once its catalogue is loaded). */
export async function setLanguage(code) {
  if (!LOADERS[code]) return;
  try {
    localStorage.setItem("meetmesh.lang", code);
  } catch {
    /* storage blocked: this page only */
  }
  CATALOGUES[code] ??= await LOADERS[code]();
  lang = code;
  document.documentElement.lang = code;
}

export function t(key, vars = {}) {
  const text = CATALOGUES[lang][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

// The server's message says which of several causes it was, where one code covers several (FORBIDDEN).
const FORBIDDEN_BY_MESSAGE = [
  [/removed you/i, "error.removed"],
  [/does not allow guests/i, "error.guestsNotAllowed"],
  [/unmuting yourself/i, "error.selfUnmuteOff"],
  [/sign in with their company account/i, "error.ssoDomain"],
  [/only for people signed in with their/i, "error.ssoMeeting"],
];

/**
 * A sentence for an error from the API, the SDK or the network. `action` names what was tried when one code
 * means different things ("logIn": UNAUTHENTICATED is a wrong password; "signUp": CONFLICT is an existing
 * account; "join": NOT_FOUND is an unknown number; "sso": the server's own sentence from a company sign-in that
 * failed, which says what the identity provider or the linking rules refused).
 */
export function errorText(err, action = "") {
  if (!err) return t("error.generic");
  if (err instanceof TypeError && /fetch|network/i.test(err.message)) return t("error.network");
  const code = err.code ?? err.errors?.[0]?.extensions?.code ?? null;
  const message = err.errors?.[0]?.message ?? err.message ?? "";
  if (action === "sso" && code && code !== "RATE_LIMITED") return t("error.ssoFailed", { detail: message });
  switch (code) {
    case "UNAUTHENTICATED":
      if (action === "logIn" && /single sign-on/i.test(message)) return t("error.ssoOnly");
      return t(action === "logIn" ? "error.wrongPassword" : "error.signedOut");
    case "CONFLICT":
      return t(action === "signUp" ? "error.accountExists" : "error.conflict");
    case "BAD_PASSCODE":
      return t(/needs a passcode/i.test(message) ? "error.passcodeNeeded" : "error.badPasscode");
    case "MEETING_ENDED":
      return t("error.meetingEnded");
    case "MEETING_LOCKED":
      return t("error.meetingLocked");
    case "MEETING_FULL":
      return t("error.meetingFull");
    case "RATE_LIMITED":
      return t("error.rateLimited");
    case "NOT_FOUND":
      return t(action === "join" ? "error.meetingNotFound" : "error.notFound");
    case "FORBIDDEN": {
      const hit = FORBIDDEN_BY_MESSAGE.find(([re]) => re.test(message));
      return t(hit ? hit[1] : "error.forbidden");
    }
    case "BAD_INPUT":
      return t("error.badInput", { detail: message });
    case "PAYLOAD_TOO_LARGE":
      return t("error.tooLarge");
    case null:
    case undefined:
      // Not from the API (the SDK's own checks, a device error): its message is already meant for people.
      return message || t("error.generic");
    default:
      return t("error.generic");
  }
}
