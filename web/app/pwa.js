// Installable web app: register the service worker (/sw.js caches the pages' shell, never API answers).
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch((err) => console.warn("meetmesh: service worker not registered", err));
}
