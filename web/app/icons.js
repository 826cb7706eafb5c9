// Icons from the lucide-static npm package (ISC), served locally under /web/vendor, drawn through a CSS mask so
// they take the text colour. Decorative: the control next to them carries the accessible name.
import { html } from "lit";

export const icon = (name) =>
  html`<span class="icon" aria-hidden="true" style="--icon-url: url('/web/vendor/lucide-static/icons/${name}.svg')"></span>`;
