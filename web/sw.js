// meetmesh service worker (served at /sw.js: scope "/"). Caches the shell - pages, styles, modules, icons,
// the vendored npm files - so the app opens (and shows its own "cannot reach the server" message) offline.
// Never caches API answers (/graphql, /api, recording media, chat files): those are private and live.
// Network first, the cache only when the network fails: a deploy is seen at once, never a stale mix.
const CACHE = "meetmesh-shell-v4";
const SHELL = [
  "/",
  "/web/meeting.html",
  "/web/play.html",
  "/web/design/tokens.css",
  "/web/design/base.css",
  "/web/app.css",
  "/web/app/home.js",
  "/web/app/pwa.js",
  "/web/i18n/index.js",
  "/web/i18n/en.js",
  "/web/i18n/de.js",
  "/web/sdk/index.js",
  "/web/sdk/element.js",
  "/web/sdk/dom.js",
  "/web/sdk/style.js",
  "/web/sdk/room.js",
  "/web/sdk/media.js",
  "/web/sdk/graphql.js",
  "/web/sdk/localrecording.js",
  "/web/sdk/chat.js",
  "/web/sdk/quality.js",
  "/web/sdk/settings.js",
  "/web/sdk/background.js",
  "/web/manifest.webmanifest",
  "/web/icons/icon.svg",
  "/web/vendor/lit/index.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

/** The cached page standing in for a navigation: every /m/<number> is meeting.html, every /r/ and /s/ play.html. */
function shellFor(url) {
  if (url.pathname.startsWith("/m/")) return "/web/meeting.html";
  if (url.pathname.startsWith("/r/") || url.pathname.startsWith("/s/")) return "/web/play.html";
  return url.pathname === "/" ? "/" : null;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  const page = req.mode === "navigate" ? shellFor(url) : null;
  const asset = url.pathname.startsWith("/web/");
  if (!page && !asset) return; // the API, media, files: straight to the network, never stored
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((cache) => cache.put(page || req, copy));
        }
        return res;
      })
      .catch(async () => (await caches.match(page || req)) || Response.error()),
  );
});
