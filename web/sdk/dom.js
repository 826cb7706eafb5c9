// Small DOM helpers for the meeting element: build nodes from data (never HTML strings of user text), icons,
// links made safe, initials.

/** h("button", {class: "x", dataset: {action: "mic"}, "aria-label": "…"}, child, "text", …) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/**
 * A lucide icon (the lucide-static npm package, served under /web/vendor) drawn through a CSS mask so it takes
 * the text colour. Decorative: the control it sits in carries the accessible name.
 */
export function icon(name, base = "") {
  const span = h("span", { class: "icon", "aria-hidden": "true" });
  span.style.setProperty("--icon-url", `url("${base}/web/vendor/lucide-static/icons/${name}.svg")`);
  return span;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;

/**
 * Text with its http(s) links as <a> elements: text nodes and anchors only, so nothing a sender types becomes
 * markup. Links open in a new tab without handing the page over (noopener noreferrer).
 */
export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
    let href = null;
    try {
      const url = new URL(match[0]);
      if (url.protocol === "http:" || url.protocol === "https:") href = url.href;
    } catch {
      /* not a URL after all: kept as text */
    }
    out.push(href ? h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow", text: match[0] }) : document.createTextNode(match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** "Ada Lovelace" → "AL"; one word → its first two letters. */
export function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const letters = words.length === 1 ? [...words[0]].slice(0, 2) : [[...words[0]][0], [...words[words.length - 1]][0]];
  return letters.join("").toUpperCase();
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A short two-tone chime (Web Audio): someone is waiting. Silent where audio cannot start. */
export function chime() {
  try {
    const ctx = new AudioContext();
    const gain = ctx.createGain();
    gain.gain.value = 0.08;
    gain.connect(ctx.destination);
    [880, 1320].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = freq;
      osc.connect(gain);
      osc.start(ctx.currentTime + i * 0.15);
      osc.stop(ctx.currentTime + i * 0.15 + 0.12);
    });
    setTimeout(() => ctx.close(), 600);
  } catch {
    /* no audio: the badge and the toast still tell */
  }
}
