// Times in a meeting's own time zone: the schedule form takes a wall-clock date and time in a chosen zone, the
// API stores an instant (UTC) plus the zone.
import { lang } from "../i18n/index.js";

/** Offset of `zone` from UTC at instant `ms`, in milliseconds. */
function offsetMs(ms, zone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant at which it is `date` ("2026-12-24") `time` ("09:30") in `zone`. */
export function zonedToUtc(date, time, zone) {
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let guess = wall - offsetMs(wall, zone);
  guess = wall - offsetMs(guess, zone); // once more: the offset may differ across a DST change
  return new Date(guess);
}

/** {date: "YYYY-MM-DD", time: "HH:MM"} of instant `iso` in `zone` (for editing). */
export function utcToZoned(iso, zone) {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(new Date(iso))
      .map((x) => [x.type, x.value]),
  );
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

export const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function zones() {
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return all.includes("UTC") ? all : ["UTC", ...all];
}

/** "Tue, 24 Dec 2026, 09:30 (Europe/Berlin)" in the reader's language. */
export function formatWhen(iso, zone) {
  const text = new Intl.DateTimeFormat(lang, { timeZone: zone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  return `${text} (${zone})`;
}

export const formatDate = (iso) => new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));

export function formatDuration(seconds) {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}
