// The notes as a PDF, written by hand: a few pages of text in the standard Helvetica fonts need no library
// (ISO 32000-1 section 9.6.2.2: the 14 standard Type 1 fonts need no embedding) and nothing from a CDN.
//
//   const bytes = notesPdf(markdown, { title });   // Uint8Array, "application/pdf"
//
// Text is WinAnsi-encoded (section D.2); characters outside it print as "?". Line breaking uses Helvetica's
// advance widths (its AFM), so the layout is the same in every browser.

import { parseBlocks } from "./markdown.js";

// Helvetica advance widths (1/1000 em) for the characters 32..126, from the Adobe AFM.
const WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
  722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
  556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
  260, 334, 584,
];
const BOLD = 1.08; // Helvetica-Bold runs about this much wider: wrapping by it keeps bold lines inside the margin

function width(text, size, bold) {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    w += c >= 32 && c <= 126 ? WIDTHS[c - 32] : 556;
  }
  return (w * size * (bold ? BOLD : 1)) / 1000;
}

/** Lines of at most `max` points, broken at spaces (a word longer than a line is cut). */
export function wrap(text, size, max, bold = false) {
  const lines = [];
  let line = "";
  for (const word of text.split(/ +/)) {
    const next = line ? `${line} ${word}` : word;
    if (width(next, size, bold) <= max) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = word;
    while (width(line, size, bold) > max && line.length > 1) {
      let cut = line.length - 1;
      while (cut > 1 && width(line.slice(0, cut), size, bold) > max) cut--;
      lines.push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  lines.push(line);
  return lines;
}

// WinAnsiEncoding (ISO 32000-1 annex D.2): Latin-1 plus these at 0x80..0x9F.
const WIN_ANSI = { "\u20ac": 0x80, "\u2018": 0x91, "\u2019": 0x92, "\u201c": 0x93, "\u201d": 0x94, "\u2022": 0x95, "\u2013": 0x96, "\u2014": 0x97, "\u2026": 0x85 };

/** A PDF string literal (section 7.3.4.2): WinAnsi bytes, with \, ( ) and non-ASCII bytes escaped. */
export function pdfString(text) {
  let out = "(";
  for (const ch of text) {
    const c = ch.codePointAt(0);
    const b = WIN_ANSI[ch] ?? (c >= 32 && c <= 255 && !(c >= 127 && c < 160) ? c : 63);
    if (b === 40 || b === 41 || b === 92) out += `\\${String.fromCharCode(b)}`;
    else if (b < 127) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, "0")}`;
  }
  return `${out})`;
}

const PAGE_W = 595; // A4 in points
const PAGE_H = 842;
const MARGIN = 56;
const SIZES = { 1: 20, 2: 16, 3: 13 };
const BODY = 11;

/** Page content streams (PDF operators) for the notes. */
export function layout(markdown, title) {
  const pages = [];
  let ops = [];
  let y = PAGE_H - MARGIN;
  const room = PAGE_W - 2 * MARGIN;
  const newPage = () => {
    pages.push(ops.join("\n"));
    ops = [];
    y = PAGE_H - MARGIN;
  };
  const text = (x, str, size, bold) => ops.push(`BT /${bold ? "F2" : "F1"} ${size} Tf ${x.toFixed(2)} ${y.toFixed(2)} Td ${pdfString(str)} Tj ET`);
  const block = (str, { size = BODY, bold = false, indent = 0, marker = null, gapBefore = 0 }) => {
    y -= gapBefore;
    const lines = wrap(str, size, room - indent, bold);
    lines.forEach((line, i) => {
      const lead = size * 1.35;
      if (y - lead < MARGIN) newPage();
      y -= lead;
      if (i === 0 && marker) marker(MARGIN + indent - 16, y, size);
      text(MARGIN + indent, line, size, bold);
    });
  };
  if (title) block(title, { size: 9, marker: null });
  for (const b of parseBlocks(markdown)) {
    if (b.kind === "heading") block(b.text, { size: SIZES[b.level], bold: true, gapBefore: 6 });
    else if (b.kind === "task")
      block(b.text, {
        indent: 18,
        marker: (x, at, size) => {
          // An empty or ticked square drawn with path operators (no glyph needed).
          ops.push(`0.6 w ${x.toFixed(2)} ${(at - 1).toFixed(2)} ${size * 0.8} ${size * 0.8} re S`);
          if (b.checked) ops.push(`1.2 w ${(x + 1.5).toFixed(2)} ${(at + 3).toFixed(2)} m ${(x + 3.5).toFixed(2)} ${(at + 0.5).toFixed(2)} l ${(x + 8).toFixed(2)} ${(at + 7.5).toFixed(2)} l S`);
        },
      });
    else if (b.kind === "bullet") block(b.text, { indent: 18, marker: (x, at, size) => text(x + 4, "\u2022", size, false) });
    else if (b.kind === "numbered") block(b.text, { indent: 18, marker: (x, at, size) => text(x, `${b.number}.`, size, false) });
    else if (b.kind === "blank") y -= BODY * 0.6;
    else block(b.text, {});
  }
  pages.push(ops.join("\n"));
  return pages;
}

/** The whole file: catalog, page tree, two fonts, then a page and its content per page; xref with byte offsets. */
export function notesPdf(markdown, { title = "" } = {}) {
  const contents = layout(markdown, title);
  const objects = [];
  const pageIds = contents.map((_, i) => 5 + 2 * i);
  objects[1] = "<< /Type /Catalog /Pages 2 0 R >>";
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(" ")}] /Count ${pageIds.length} >>`;
  objects[3] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";
  objects[4] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>";
  contents.forEach((stream, i) => {
    objects[5 + 2 * i] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${6 + 2 * i} 0 R >>`;
    objects[6 + 2 * i] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  });
  // Every byte written is ASCII (non-ASCII text is escaped in pdfString), so string lengths are byte offsets.
  let out = "%PDF-1.4\n";
  const offsets = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = out.length;
    out += `${id} 0 obj\n${objects[id]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}
