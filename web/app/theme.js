// Light / dark theme: the system's (prefers-color-scheme) until the person picks one; the pick is stored (and
// applied before first paint by a line in index.html).
const KEY = "meetmesh.theme";

export function currentTheme() {
  return document.documentElement.dataset.theme || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
}

export function toggleTheme() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem(KEY, next);
  return next;
}
