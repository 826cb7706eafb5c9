// The meeting element's styles (inside its shadow root). Colours and spacing follow web/design/tokens.css: a
// page that loads the design system can override them through the custom properties; the defaults are its
// dark theme, which meetings always use (as Zoom's and Jitsi's do). Text meets WCAG AA on every surface.
export const STYLE = `
:host {
  --mm-bg: #11141a; --mm-surface: #1a1f28; --mm-surface-2: #242a36; --mm-border: #3a4252; --mm-text: #e8ebf2;
  --mm-muted: #b4bccb; --mm-accent: #7d9bff; --mm-accent-bg: #2f54d1; --mm-danger: #ff8a80; --mm-danger-bg: #b3261e;
  --mm-focus: #f0a500; --mm-target: 44px; --mm-radius: 8px; --mm-icon: 20px;
  display: block; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--mm-text);
  background: var(--mm-bg); min-height: 360px; position: relative;
}
:host([theme="light"]) {
  --mm-bg: #f4f5f8; --mm-surface: #ffffff; --mm-surface-2: #e6e9ef; --mm-border: #b9c0cc; --mm-text: #161a21;
  --mm-muted: #4a5261; --mm-accent: #2446b8; --mm-accent-bg: #2f54d1; --mm-danger: #a3231b; --mm-danger-bg: #b3261e;
  --mm-focus: #b35c00;
}
:host([theme="light"]) .chip[aria-pressed="true"] { background: #d5defa; }
:host([theme="light"]) .tb.off, :host([theme="light"]) .local-recording { color: #a3231b; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
section { padding: 16px; }
h1 { font-size: 1.44rem; margin: 0 0 8px; } h2 { font-size: 1.2rem; margin: 0 0 8px; }
.meeting-title { font-size: 1rem; margin: 0; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 40ch; } h3 { font-size: 1rem; margin: 12px 0 6px; }
button, select, input { font: inherit; color: var(--mm-text); background: var(--mm-surface-2); border: 1px solid var(--mm-border);
  border-radius: var(--mm-radius); min-height: var(--mm-target); padding: 6px 12px; }
button { cursor: pointer; display: inline-flex; align-items: center; justify-content: center; gap: 6px; }
button:hover { border-color: var(--mm-muted); }
button:disabled { opacity: .6; cursor: default; }
:focus-visible { outline: 3px solid var(--mm-focus); outline-offset: 2px; }
a { color: var(--mm-accent); }
.icon { display: inline-block; flex: none; width: var(--mm-icon); height: var(--mm-icon); background: currentColor;
  -webkit-mask: var(--icon-url) center / contain no-repeat; mask: var(--icon-url) center / contain no-repeat; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.primary { background: var(--mm-accent-bg); border-color: var(--mm-accent-bg); color: #fff; }
.danger { background: var(--mm-danger-bg); border-color: var(--mm-danger-bg); color: #fff; }

/* Pre-join, waiting, left */
.preview { width: 320px; max-width: 100%; aspect-ratio: 4/3; background: #000; border-radius: var(--mm-radius); }
.prejoin label { display: block; margin: 8px 0; }
.prejoin select, .prejoin input { display: block; width: 320px; max-width: 100%; }
.error { color: var(--mm-danger); } .error:empty { display: none; }
.level { display: block; width: 320px; max-width: 100%; height: 8px; }
.waiting { text-align: center; padding: 48px 16px; } .waiting p { color: var(--mm-muted); }

/* The meeting page: stage and panels above, toolbar below, all within the viewport. */
.meeting-page { padding: 0; display: flex; flex-direction: column; height: var(--meetmesh-height, 100dvh); }
.topline { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 6px 12px; min-height: 0; }
.topline:empty { display: none; }
.notice { background: #4a4520; color: #fff; padding: 6px 10px; border-radius: 6px; margin: 0; overflow-wrap: anywhere; }
.recording-banner { background: #8c1d18; color: #fff; padding: 4px 10px; border-radius: 6px; margin: 0; font-weight: 600; }
.local-recording { color: #ffb4ab; font-weight: 600; margin: 0; }
.lock-badge { display: inline-flex; gap: 4px; align-items: center; color: var(--mm-muted); margin: 0; }
.body { flex: 1; display: flex; min-height: 0; gap: 8px; padding: 0 8px; }
.stage { flex: 1; min-width: 0; overflow: auto; position: relative; padding: 4px 0; }
.screens video { width: 100%; max-height: 60vh; background: #000; border-radius: var(--mm-radius); }
.screen { position: relative; margin-bottom: 8px; } .screen video { display: block; }
.annotate-overlay { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; touch-action: none; }
.screen.annotating .annotate-overlay { pointer-events: auto; cursor: crosshair; }
.annotate-tools { position: absolute; top: 6px; right: 6px; display: flex; gap: 4px; align-items: center;
  background: rgb(0 0 0 / 60%); border-radius: 6px; padding: 2px; }
.annotate-tools [aria-pressed="true"] { outline: 2px solid var(--mm-accent); }
.annotate-status { color: #fff; font-size: .8rem; padding: 0 4px; } .annotate-status:empty { display: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(220px, 100%), 1fr)); gap: 8px; }
.tile { position: relative; background: #000; border-radius: var(--mm-radius); overflow: hidden; aspect-ratio: 16/9;
  outline: 3px solid transparent; outline-offset: -3px; }
.tile.featured { grid-column: 1 / -1; order: -1; aspect-ratio: 16/9; max-height: 62vh; }
.tile.speaking { outline-color: #4cd08a; }
.tile video { width: 100%; height: 100%; object-fit: cover; display: block; }
.tile.camera-off video { visibility: hidden; }
.tile.off-page { display: none; }
.pager { display: flex; align-items: center; justify-content: center; gap: 12px; padding: 6px 0; }
.nameplate .quality { display: inline-flex; } .nameplate .quality .icon { color: #4cd08a; }
.tile[data-quality="fair"] .quality .icon { color: #f0a500; } .tile[data-quality="poor"] .quality .icon { color: #ff8a80; }
.tile .placeholder { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; background: var(--mm-surface-2); }
.tile.camera-off .placeholder { display: flex; }
.placeholder span { width: 72px; height: 72px; border-radius: 50%; background: #3d4a7a; color: #fff; display: flex;
  align-items: center; justify-content: center; font-size: 1.6rem; font-weight: 600; }
.nameplate { position: absolute; left: 6px; bottom: 6px; display: flex; gap: 4px; align-items: center; background: #000c;
  padding: 2px 8px; border-radius: 4px; max-width: calc(100% - 60px); }
.nameplate { color: #fff; } .nameplate .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.nameplate .icon { --mm-icon: 16px; color: #ff8a80; }
.tile .hand { position: absolute; top: 6px; left: 6px; background: #f0a500; color: #000; border-radius: 50%; padding: 6px; display: flex; }
.tile .pin { color: #fff; position: absolute; top: 4px; right: 4px; background: #000a; border: none; min-width: var(--mm-target); }
.tile .float { position: absolute; right: 12px; bottom: 12px; font-size: 2.2rem; pointer-events: none; animation: rise 3s ease-out forwards; }
@keyframes rise { from { transform: translateY(0); opacity: 1; } to { transform: translateY(-80px); opacity: 0; } }
@media (prefers-reduced-motion: reduce) { .tile .float { animation: none; } }
.captions { position: sticky; bottom: 0; margin-top: 8px; font-size: 1.1em; text-align: center; }
.captions p { color: #fff; display: inline-block; margin: 2px 0; background: #000d; padding: 2px 8px; border-radius: 4px; }

/* Panels: side columns on wide screens, bottom sheets on narrow ones. */
aside.panel { width: 320px; flex: none; background: var(--mm-surface); border-radius: var(--mm-radius); padding: 8px 12px;
  display: flex; flex-direction: column; min-height: 0; overflow: auto; }
/* Shared notes and whiteboard (web/collab). The board is wide: its canvas keeps a 16:9 logical size. */
aside.board-panel { width: min(60vw, 960px); }
.collab-body { display: flex; flex-direction: column; gap: 6px; min-height: 0; flex: 1; }
.collab-status { margin: 0; font-size: 0.9em; color: var(--mm-muted, inherit); min-height: 1.2em; }
.notes-text { flex: 1; min-height: 240px; width: 100%; resize: vertical; font: inherit; line-height: 1.4; }
.collab-people li { padding: 2px 0; } .collab-people li::before { content: "\\25CF  "; color: var(--who); }
.board-tools { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.board-tools [aria-pressed="true"] { outline: 2px solid var(--mm-accent); }
.board-tools .swatch { min-width: 28px; width: 28px; height: 28px; border-radius: 50%; padding: 0; }
.board-tools .width-swatch { min-width: 28px; width: 28px; height: 28px; padding: 0; display: inline-grid; place-items: center; }
.board-tools .width-dot { display: block; border-radius: 50%; background: currentColor; }
.board-tools input { flex: 1; min-width: 80px; }
.board-stage { position: relative; width: 100%; aspect-ratio: 16 / 9; touch-action: none; }
.board-stage canvas { position: absolute; inset: 0; width: 100%; height: 100%; border-radius: 4px; }
.board-overlay { pointer-events: none; }
.panel > header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.panel > header h2 { margin: 0; }
.icon-button { min-width: var(--mm-target); padding: 6px; }
.panel ul { list-style: none; margin: 0; padding: 0; }
.person { display: flex; gap: 6px; align-items: center; padding: 4px 0; border-bottom: 1px solid var(--mm-surface-2); position: relative; flex-wrap: wrap; }
.person .who { flex: 1; min-width: 0; display: flex; gap: 6px; align-items: center; }
.person .who .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.person .role { color: var(--mm-muted); font-size: .85em; }
.person .icon { --mm-icon: 16px; }
.person .state-hand { color: #f0a500; } .person .state-muted { color: #ff8a80; }
.menu { position: absolute; z-index: 20; background: var(--mm-surface-2); border: 1px solid var(--mm-border); border-radius: var(--mm-radius);
  padding: 4px; display: flex; flex-direction: column; min-width: 220px; box-shadow: 0 8px 24px #0008; }
.menu button { justify-content: flex-start; border: none; background: transparent; width: 100%; text-align: left; }
.menu button:hover { background: var(--mm-surface); }
.menu button[aria-pressed="true"]::after, .menu button[aria-checked="true"]::after { content: "✓"; margin-left: auto; }
.person .menu { right: 0; top: 100%; }
.search { width: 100%; margin: 8px 0; }
.chat-log { flex: 1; overflow: auto; min-height: 120px; padding: 4px 0; }
.msg { margin: 6px 0; } .msg .meta { color: var(--mm-muted); font-size: .85em; display: flex; gap: 6px; flex-wrap: wrap; }
.msg .meta strong { color: var(--mm-text); } .msg p { margin: 2px 0; overflow-wrap: anywhere; white-space: pre-wrap; }
.msg.private { border-left: 3px solid var(--mm-accent); padding-left: 6px; }
.msg .link-button { min-height: 24px; min-width: 44px; padding: 0 6px; margin-left: auto; background: transparent; border: none; color: var(--mm-accent); text-decoration: underline; font-size: .85em; }
.msg .deleted { color: var(--mm-muted); font-style: italic; }
.msg.found { background: var(--mm-surface-2); border-radius: 6px; }
.msg .msg-actions { display: flex; flex-wrap: wrap; gap: 2px; }
.msg .msg-actions .link-button { margin-left: 0; }
.msg .reply-quote { margin: 2px 0; padding: 2px 8px; border-left: 3px solid var(--mm-border); color: var(--mm-muted); font-size: .9em;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.msg .reply-quote strong { color: var(--mm-text); }
.msg-reactions { display: flex; flex-wrap: wrap; gap: 4px; margin: 2px 0; }
.chip { min-height: 32px; padding: 0 8px; border-radius: 999px; font-size: .9em; }
.chip[aria-pressed="true"] { border-color: var(--mm-accent); background: #2a3760; }
.msg .emoji-row button { font-size: 1.2rem; padding: 2px 6px; }
.composer-context { display: flex; align-items: center; gap: 6px; background: var(--mm-surface-2); border-radius: 6px; padding: 2px 8px; }
.composer-context .what { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.composer-context .link-button { background: transparent; border: none; color: var(--mm-accent); text-decoration: underline; }
.chat-search input { width: 100%; margin: 6px 0; }
.chat-results { flex: 1; overflow: auto; } .chat-results li { margin: 4px 0; }
.chat-results .hit { width: 100%; flex-direction: column; align-items: flex-start; text-align: left; }
.chat-results .meta { color: var(--mm-muted); font-size: .85em; } .chat-results .meta strong { color: var(--mm-text); }
mark { background: #f0a500; color: #000; border-radius: 2px; }
.chat-status progress { vertical-align: middle; width: 120px; }
.chat-form { display: flex; flex-direction: column; gap: 6px; padding-top: 6px; }
.chat-form .row { display: flex; gap: 6px; } .chat-form .row input { flex: 1; min-width: 0; }
.panel .chat-form label { display: flex; gap: 6px; align-items: center; } .chat-form select { flex: 1; min-width: 0; }
.chat-status { color: var(--mm-muted); margin: 0; } .chat-status:empty { display: none; }
.panel.dragging { outline: 3px dashed var(--mm-accent); }
.transcript p { margin: 4px 0; }
textarea { font: inherit; color: var(--mm-text); background: var(--mm-surface-2); border: 1px solid var(--mm-border); border-radius: var(--mm-radius); padding: 6px 12px; width: 100%; }
.panel label { display: block; margin: 6px 0; } .panel label input:not([type=checkbox]):not([type=radio]) { width: 100%; }
.panel label.check { display: flex; gap: 8px; align-items: center; min-height: var(--mm-target); }
.panel label.check input { width: 20px; height: 20px; }
.panel > button, .poll button, [data-role=breakout-body] > button { margin: 4px 0; }
.poll { border-top: 1px solid var(--mm-surface-2); padding: 6px 0; } .poll h3 { margin: 4px 0; }
.poll fieldset, fieldset.choices { border: none; padding: 0; margin: 6px 0; } fieldset.choices legend { padding: 0; }
.result { display: flex; flex-direction: column; margin: 4px 0; } .result meter { width: 100%; height: 10px; }

/* Toolbar: icon above label; what does not fit moves into More (element.js measures). */
.toolbar { display: flex; align-items: center; gap: 6px; padding: 6px 8px; background: var(--mm-surface); position: relative; }
.toolbar .bar { flex: 1; display: flex; gap: 4px; min-width: 0; overflow: hidden; justify-content: center; }
.tb { flex: none; flex-direction: column; gap: 2px; min-width: 64px; padding: 4px 8px; background: transparent; border-color: transparent; font-size: 12px; position: relative; white-space: nowrap; }
.tb[aria-pressed="true"] { background: var(--mm-surface-2); }
.tb.off { color: #ff8a80; }
.tb.caret { min-width: var(--mm-target); padding: 4px; margin-left: -6px; }
.bar .tb.caret .lbl { display: none; }
.more-menu .tb.caret { margin-left: 0; }
.tb.leave { background: var(--mm-danger-bg); color: #fff; min-width: 72px; }
.badge { position: absolute; top: 0; right: 8px; background: var(--mm-accent-bg); color: #fff; border-radius: 999px; font-size: 11px;
  min-width: 18px; padding: 0 5px; line-height: 18px; }
.badge.alert { background: #b3261e; right: auto; left: 8px; }
.badge:empty { display: none; }
.toolbar .menu { bottom: calc(100% + 4px); }
.more-menu { right: 8px; width: max-content; max-width: min(340px, calc(100% - 16px)); max-height: 70vh; overflow: auto; }
.more-menu .tb { flex-direction: row; min-height: var(--mm-target); font-size: 14px; width: 100%; justify-content: flex-start; }
.more-menu .tb .badge { position: static; }
.more-menu hr { border: none; border-top: 1px solid var(--mm-border); width: 100%; margin: 4px 0; }
.popover { left: 50%; transform: translateX(-50%); }
.emoji-row { display: flex; flex-wrap: wrap; gap: 4px; flex-direction: row; min-width: 0; }
.emoji-row button { font-size: 1.4rem; min-width: var(--mm-target); width: auto; justify-content: center; }

.toasts { position: absolute; top: 8px; left: 50%; transform: translateX(-50%); display: flex; flex-direction: column; gap: 6px;
  z-index: 30; width: max-content; max-width: calc(100% - 16px); pointer-events: none; }
.toast { background: #2b3447; color: #e8ebf2; padding: 8px 14px; border-radius: var(--mm-radius); box-shadow: 0 4px 16px #0008; }
dialog { background: var(--mm-surface); color: var(--mm-text); border: 1px solid var(--mm-border); border-radius: 12px; max-width: min(420px, calc(100vw - 32px)); }
dialog::backdrop { background: #0009; }
dialog .actions { display: flex; gap: 8px; justify-content: flex-end; flex-wrap: wrap; margin-top: 12px; }
dialog label { display: flex; gap: 8px; align-items: center; margin: 8px 0; } dialog input[type=text] { flex: 1; }

@media (max-width: 640px) {
  .body { padding: 0 4px; }
  aside.panel { position: fixed; left: 0; right: 0; bottom: 0; width: auto; height: 72dvh; z-index: 25;
    border-radius: 14px 14px 0 0; box-shadow: 0 -8px 24px #000a; }
  .tb { min-width: 52px; padding: 4px; }
  .grid { grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
}
`;
