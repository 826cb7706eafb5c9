// RFC 5545 section 3.3.10 RRULEs for the schedule form: build one from the form's choices, read one back into
// them, and say it in words. The API accepts more (BYSETPOS, YEARLY…); what the form cannot show it describes
// as a custom rule and leaves unchanged.
import { lang, t } from "../i18n/index.js";

export const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/** A weekday's name in the reader's language (2024-01-01 was a Monday). */
export const dayName = (code, style = "long") =>
  new Intl.DateTimeFormat(lang, { weekday: style, timeZone: "UTC" }).format(new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(code))));

/**
 * choices: {freq: "NONE"|"DAILY"|"WEEKLY"|"MONTHLY", interval, days: ["MO",…], monthDay, ends: "NEVER"|"COUNT"|"UNTIL",
 * count, until: "YYYY-MM-DD"} → RRULE string, or "" for none.
 */
export function buildRule(c) {
  if (!c.freq || c.freq === "NONE") return "";
  const parts = [`FREQ=${c.freq}`];
  const interval = Math.max(1, Math.min(99, Number(c.interval) || 1));
  if (interval > 1) parts.push(`INTERVAL=${interval}`);
  if (c.freq === "WEEKLY" && c.days?.length) parts.push(`BYDAY=${WEEKDAYS.filter((d) => c.days.includes(d)).join(",")}`);
  if (c.freq === "MONTHLY" && c.monthDay) parts.push(`BYMONTHDAY=${Number(c.monthDay)}`);
  if (c.ends === "COUNT") parts.push(`COUNT=${Math.max(1, Math.min(1000, Number(c.count) || 1))}`);
  if (c.ends === "UNTIL" && c.until) parts.push(`UNTIL=${c.until.replaceAll("-", "")}`);
  return parts.join(";");
}

function fields(rule) {
  return Object.fromEntries(
    String(rule)
      .replace(/^RRULE:/i, "")
      .split(";")
      .filter(Boolean)
      .map((p) => p.split("=", 2).map((x, i) => (i === 0 ? x.toUpperCase() : x))),
  );
}

/** The form's choices for `rule` (null when the form cannot represent it). */
export function parseRule(rule) {
  const blank = { freq: "NONE", interval: 1, days: [], monthDay: "", ends: "NEVER", count: 10, until: "" };
  if (!rule) return blank;
  const f = fields(rule);
  const known = new Set(["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL"]);
  if (!["DAILY", "WEEKLY", "MONTHLY"].includes(f.FREQ) || Object.keys(f).some((k) => !known.has(k))) return null;
  const days = f.BYDAY ? f.BYDAY.split(",") : [];
  if (days.some((d) => !WEEKDAYS.includes(d))) return null;
  const until = f.UNTIL ? `${f.UNTIL.slice(0, 4)}-${f.UNTIL.slice(4, 6)}-${f.UNTIL.slice(6, 8)}` : "";
  return { ...blank, freq: f.FREQ, interval: Number(f.INTERVAL || 1), days, monthDay: f.BYMONTHDAY || "", ends: f.COUNT ? "COUNT" : f.UNTIL ? "UNTIL" : "NEVER", count: Number(f.COUNT || 10), until };
}

/** "Every week on Monday and Wednesday, 6 times" in the reader's language. */
export function describeRule(rule) {
  if (!rule) return t("recur.none");
  const f = fields(rule);
  if (!["DAILY", "WEEKLY", "MONTHLY", "YEARLY"].includes(f.FREQ)) return t("recur.desc.custom", { rule });
  const n = Number(f.INTERVAL || 1);
  const out = [t(`recur.desc.${f.FREQ}.${n === 1 ? "1" : "n"}`, { n })];
  if (f.BYDAY) {
    const codes = f.BYDAY.split(",");
    if (codes.every((d) => WEEKDAYS.includes(d))) {
      out.push(t("recur.desc.onDays", { days: new Intl.ListFormat(lang, { type: "conjunction" }).format(codes.map((d) => dayName(d))) }));
    } else return t("recur.desc.custom", { rule });
  }
  if (f.BYMONTHDAY) out.push(t("recur.desc.onMonthDay", { day: f.BYMONTHDAY }));
  if (f.BYSETPOS || f.BYMONTH) return t("recur.desc.custom", { rule });
  let text = out.join(" ");
  if (f.COUNT) text += `, ${t("recur.desc.count", { n: f.COUNT })}`;
  if (f.UNTIL) {
    const u = f.UNTIL;
    const date = new Intl.DateTimeFormat(lang, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(new Date(Date.UTC(+u.slice(0, 4), +u.slice(4, 6) - 1, +u.slice(6, 8))));
    text += `, ${t("recur.desc.until", { date })}`;
  }
  return text;
}
