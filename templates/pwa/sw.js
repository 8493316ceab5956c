/* Service worker, version {{ version }}.
   Caches static assets and the new-contact form's shell only: never a page or an
   API answer that holds records. Contacts wait in the IndexedDB outbox. */
"use strict";
importScripts({{ core_url | tojson }});

const CACHE = "maraudes-{{ version }}";
const ASSETS = {{ assets | tojson }};
const OFFLINE_URL = {{ offline_url | tojson }};
// The form that logs a new contact holds no record: it may be served offline.
const FORM_SHELL = /^\/patrols\/\d+\/contacts\/new$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll([...ASSETS, OFFLINE_URL])).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode !== "navigate") return; // API answers and the rest: network only
  if (FORM_SHELL.test(url.pathname)) {
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok && !response.redirected) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
          }
          return response;
        })
        .catch(() => caches.match(url.pathname).then((hit) => hit || caches.match(OFFLINE_URL)))
    );
    return;
  }
  event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
});

// A page that shows the form asks for its shell to be kept, so that it reloads offline.
self.addEventListener("message", (event) => {
  const path = event.data && event.data.cacheShell;
  if (typeof path !== "string" || !FORM_SHELL.test(path)) return;
  event.waitUntil(
    fetch(path, { credentials: "same-origin" }).then((response) => {
      if (response.ok && !response.redirected) {
        return caches.open(CACHE).then((cache) => cache.put(path, response));
      }
      return undefined;
    }).catch(() => {})
  );
});

// Background Sync where the browser has it; the page also syncs on its own.
self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(OutboxCore.sync());
});
