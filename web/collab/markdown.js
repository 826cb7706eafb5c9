// The Markdown the shared notes understand: headings (#, ##, ###), bullet lists (- or *), numbered lists (1.),
// checkboxes (- [ ] / - [x]). The notes stay plain Markdown in the Y.Text, so several people can type in one
// paragraph and the export is the document itself; this module only reads lines and computes the small edits
// (a checkbox toggled is one character replaced, which merges with anyone's concurrent typing).

const HEADING = /^(#{1,3})\s+(.*)$/;
const TASK = /^(\s*)[-*]\s\[([ xX])\]\s?(.*)$/;
const BULLET = /^(\s*)[-*]\s+(.*)$/;
const NUMBERED = /^(\s*)(\d{1,9})[.)]\s+(.*)$/;

/**
 * The notes as blocks, one per line: { kind: "heading" | "task" | "bullet" | "numbered" | "text" | "blank", text,
 * level (heading 1..3), checked (task), number (numbered), start (index of the line in the text), box (task: index
 * of the character between the brackets) }.
 */
export function parseBlocks(markdown) {
  const blocks = [];
  let start = 0;
  for (const line of markdown.split("\n")) {
    let m;
    if ((m = HEADING.exec(line))) blocks.push({ kind: "heading", level: m[1].length, text: m[2], start });
    else if ((m = TASK.exec(line)))
      blocks.push({ kind: "task", checked: m[2] !== " ", text: m[3], start, box: start + line.indexOf("[") + 1 });
    else if ((m = BULLET.exec(line))) blocks.push({ kind: "bullet", text: m[2], start });
    else if ((m = NUMBERED.exec(line))) blocks.push({ kind: "numbered", number: Number(m[2]), text: m[3], start });
    else if (line.trim() === "") blocks.push({ kind: "blank", text: "", start });
    else blocks.push({ kind: "text", text: line, start });
    start += line.length + 1;
  }
  return blocks;
}

/** Index where the line holding `index` starts. */
export function lineStart(text, index) {
  return text.lastIndexOf("\n", Math.max(0, index - 1)) + 1;
}

const PREFIXES = { heading: "## ", bullet: "- ", task: "- [ ] " };
const ANY_PREFIX = /^(#{1,3}\s+|[-*]\s\[[ xX]\]\s?|[-*]\s+|\d{1,9}[.)]\s+)/;

/**
 * The edits ([index, deleted count, inserted text], last first so earlier indices stay valid) that turn the lines
 * touched by [from, to] into `kind` ("heading", "bullet", "task"), or back to plain text when all already are.
 */
export function formatLines(text, from, to, kind) {
  const prefix = PREFIXES[kind];
  const starts = [];
  for (let s = lineStart(text, from); s <= Math.max(from, to); ) {
    starts.push(s);
    const nl = text.indexOf("\n", s);
    if (nl < 0 || nl >= Math.max(from, to)) break;
    s = nl + 1;
  }
  const lineAt = (s) => text.slice(s, text.indexOf("\n", s) < 0 ? text.length : text.indexOf("\n", s));
  const already = starts.every((s) => lineAt(s).startsWith(prefix));
  const edits = [];
  for (const s of starts) {
    const existing = ANY_PREFIX.exec(lineAt(s))?.[0] ?? "";
    if (already) edits.push([s, prefix.length, ""]);
    else edits.push([s, existing.length, prefix]);
  }
  return edits.reverse();
}

/** Templates that seed an empty notes document. */
export const TEMPLATES = {
  agenda: (t) =>
    `# ${t("notes.tpl.agendaTitle")}\n\n## ${t("notes.tpl.agenda")}\n1. \n2. \n3. \n\n## ${t("notes.tpl.notes")}\n- \n\n## ${t("notes.tpl.actions")}\n- [ ] \n`,
  actions: (t) => `# ${t("notes.tpl.actionsTitle")}\n\n- [ ] \n- [ ] \n- [ ] \n\n## ${t("notes.tpl.decisions")}\n- \n`,
};
