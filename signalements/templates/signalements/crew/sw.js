/* The crews' work lists offline. Pages and map data: the network first, the last copy when there is
   no network. Static files: the cached copy at once, refreshed in the background. Map tiles and other
   sites: not handled. Updates made offline are queued by the page itself (crew-offline.js). */
"use strict";

const CACHE = "crew-pages-v1";
const {PRECACHE, SCOPE, STATIC_URL, MEDIA_URL} = {{ paths|safe }};
const DOWNLOADS = new Set(["gpx", "csv"]);
// Django varies pages on the cookie and the language; a copy is only ever read back by this browser.
const MATCH = {ignoreVary: true};

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(PRECACHE.map((url) => cache.add(url).catch(() => null))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("crew-pages-") && key !== CACHE).map((key) => caches.delete(key))
      ))
      .then(() => self.clients.claim())
  );
});

function keep(response) {
  return response.ok && response.type === "basic" && !response.redirected;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (keep(response)) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(request, MATCH);
    if (cached) {
      return cached;
    }
    if (request.mode === "navigate") {
      const other = await cache.match(request, {ignoreVary: true, ignoreSearch: true});
      if (other) {
        return other;
      }
    }
    throw error;
  }
}

async function cacheFirst(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(event.request, MATCH);
  const refresh = fetch(event.request).then((response) => {
    if (keep(response)) {
      return cache.put(event.request, response.clone()).then(() => response);
    }
    return response;
  });
  if (cached) {
    event.waitUntil(refresh.catch(() => null));
    return cached;
  }
  return refresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith(STATIC_URL)) {
    event.respondWith(cacheFirst(event));
  } else if (url.pathname.startsWith(MEDIA_URL)
             || (url.pathname.startsWith(SCOPE) && !DOWNLOADS.has(url.searchParams.get("format")))) {
    event.respondWith(networkFirst(request));
  }
});

/* The list page asks for its own copy, its map data and its stops' pages, so that they open offline
   even when the crew never opened them. */
async function keepCopies(urls) {
  const cache = await caches.open(CACHE);
  for (const url of urls) {
    if (await cache.match(url, MATCH)) {
      continue;
    }
    try {
      const response = await fetch(url, {credentials: "same-origin"});
      if (keep(response)) {
        await cache.put(url, response);
      }
    } catch (error) {
      return;
    }
  }
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep") {
    event.waitUntil(keepCopies(data.urls || []));
  }
});
