/* Crew pages offline: registers the offline worker, keeps updates made without network in IndexedDB
   and sends them when the network is back, each under its own key so that the server applies it once. */
(function () {
  "use strict";
  var status = document.getElementById("offline-status");
  if (!status || !("indexedDB" in window)) { return; }
  var text = status.dataset;
  var STORE = "updates";
  var sending = false;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (all, name) { return values[name]; });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function database() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("crew-updates", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "key"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, action) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = action(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
      });
    });
  }

  // Only the logged-in crew member's own updates: another's wait for them to log in again.
  function queued() {
    return run("readonly", function (store) { return store.getAll(); }).then(function (all) {
      return all.filter(function (update) { return update.user === text.user; });
    });
  }

  function csrfToken() {
    var cookie = document.cookie.split("; ").filter(function (c) { return c.indexOf("csrftoken=") === 0; })[0];
    if (cookie) { return decodeURIComponent(cookie.split("=")[1]); }
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(lines) {
    status.replaceChildren();
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.textContent = line;
      status.appendChild(p);
    });
    status.hidden = lines.length === 0;
  }

  var last = [];  // what was said after the last sending, kept while nothing else changes

  function show(updates) {
    var lines = [];
    if (!navigator.onLine) { lines.push(text.offline); }
    if (updates.length === 1) { lines.push(text.pendingOne); }
    if (updates.length > 1) { lines.push(fill(text.pendingMany, {n: updates.length})); }
    document.querySelectorAll(".stop[data-reference]").forEach(function (stop) {
      var waiting = updates.some(function (u) { return u.reference === stop.dataset.reference; });
      var badge = stop.querySelector(".pending-badge");
      if (waiting && !badge) {
        badge = document.createElement("strong");
        badge.className = "pending-badge";
        badge.textContent = text.pendingBadge;
        stop.querySelector(".stop-link > span:last-child").appendChild(badge);
      } else if (!waiting && badge) {
        badge.remove();
      }
    });
    say(lines.concat(last));
  }

  function refresh() { return queued().then(show); }

  function send(update) {
    var body = new FormData();
    body.append("outcome", update.outcome);
    body.append("note", update.note);
    body.append("reason", update.reason || "");
    if (update.photo) { body.append("photo", update.photo, update.photoName || "photo.jpg"); }
    return fetch(update.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Idempotency-Key": update.key, "Accept": "application/json"}
    });
  }

  function describe(response) {
    return response.json().then(function (body) {
      return Object.keys(body).map(function (field) { return [].concat(body[field]).join(" "); }).join(" ");
    }, function () { return String(response.status); });
  }

  function sendAll() {
    if (sending || !navigator.onLine) { return Promise.resolve(); }
    sending = true;
    var sent = 0;
    var problems = [];
    return queued().then(function (updates) {
      if (!updates.length) { return; }
      updates.sort(function (a, b) { return a.queuedAt - b.queuedAt; });
      say([text.sending]);
      return updates.reduce(function (chain, update) {
        return chain.then(function (stop) {
          if (stop) { return true; }
          return send(update).then(function (response) {
            if (response.ok) {
              sent += 1;
              return run("readwrite", function (store) { store.delete(update.key); });
            }
            if (response.status === 401 || response.status === 403) {
              problems.push(text.login);
              return true;  // kept: sent again once the crew member has logged in
            }
            if (response.status >= 500) { return true; }
            return describe(response).then(function (message) {
              problems.push(fill(text.refused, {reference: update.reference, message: message}));
              return run("readwrite", function (store) { store.delete(update.key); });
            });
          }, function () { return true; });  // the network went away again: later
        });
      }, Promise.resolve(false));
    }).then(function () {
      var time = new Date().toLocaleTimeString(document.documentElement.lang, {hour: "2-digit", minute: "2-digit"});
      last = problems.slice();
      if (sent === 1) { last.unshift(fill(text.sentOne, {time: time})); }
      if (sent > 1) { last.unshift(fill(text.sentMany, {n: sent, time: time})); }
    }).finally(function () {
      sending = false;
      return refresh();
    });
  }

  var form = document.querySelector("form.outcome");
  if (form) {
    var lastSignature = null;
    var queue = function (update) {
      return run("readwrite", function (store) { store.put(update); }).then(function () {
        last = [text.queued];
        form.reset();
        lastSignature = null;
        return refresh();
      });
    };
    form.addEventListener("submit", function (event) {
      if (form.dataset.native) { return; }  // the server's own answer (an error) is wanted
      event.preventDefault();
      var button = event.submitter;
      var photo = form.querySelector("[name=photo]").files[0] || null;
      var note = form.querySelector("[name=note]").value;
      var outcome = button && button.name === "outcome" ? button.value : "";
      var reasonField = form.querySelector("[name=reason]");
      var noteField = form.querySelector("[name=note]");
      var reason = outcome === "cannot" && reasonField ? reasonField.value : "";
      // The same update sent twice (a double tap) keeps its key; another one gets a new key.
      var signature = [outcome, note, reason, photo ? photo.name + photo.size : ""].join("|");
      if (signature !== lastSignature) {
        form.querySelector("[name=idempotency_key]").value = newKey();
        lastSignature = signature;
      }
      var update = {
        key: form.querySelector("[name=idempotency_key]").value,
        url: text.api.replace("REFERENCE", form.dataset.reference),
        reference: form.dataset.reference,
        outcome: outcome,
        note: note,
        reason: reason,
        photo: photo,
        photoName: photo ? photo.name : "",
        user: text.user,
        queuedAt: Date.now()
      };
      if (!navigator.onLine) {
        // No server to refuse it now: the same checks as the server's, before it waits in the queue.
        var missing = outcome !== "cannot" ? null
          : !reason ? [reasonField, form.dataset.reasonNeeded]
          : reason === "other" && !note.trim() ? [noteField, form.dataset.noteNeeded] : null;
        if (missing) {
          missing[0].setCustomValidity(missing[1]);
          missing[0].reportValidity();
          missing[0].addEventListener("input", function () { missing[0].setCustomValidity(""); }, {once: true});
          missing[0].addEventListener("change", function () { missing[0].setCustomValidity(""); }, {once: true});
          return;
        }
        queue(update);
        return;
      }
      // Online, or so the phone believes: a request that never gets an answer is queued too, and
      // its key makes the later resend harmless if the server did receive it.
      var body = new FormData(form);
      if (outcome) { body.append("outcome", outcome); }
      var buttons = form.querySelectorAll("button");
      var busy = function (yes) { buttons.forEach(function (b) { b.disabled = yes; }); };
      busy(true);
      fetch(location.href, {method: "POST", body: body, credentials: "same-origin", redirect: "manual"})
        .then(function (response) {
          busy(false);
          if (response.type === "opaqueredirect") {
            location.assign(form.dataset.next);
          } else if (response.status >= 502) {
            return queue(update);
          } else {
            form.dataset.native = "1";
            form.requestSubmit(button);
          }
        }, function () { busy(false); return queue(update); });
    });
    setInterval(function () { if (navigator.onLine) { sendAll(); } }, 60000);
  }

  if (!navigator.onLine) {
    // A copy kept by the worker may carry the message of the day it was saved.
    document.querySelectorAll(".messages").forEach(function (m) { m.hidden = true; });
  }
  window.addEventListener("online", function () { last = []; sendAll(); });
  window.addEventListener("offline", function () { last = []; refresh(); });
  // Someone else logged in on this phone: the pages kept for the previous person go.
  var previous = localStorage.getItem("crew-user");
  localStorage.setItem("crew-user", text.user);
  var cleared = previous && previous !== text.user && "caches" in window
    ? caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("crew-pages-") === 0; })
        .map(function (n) { return caches.delete(n); }));
    })
    : Promise.resolve();
  cleared.then(refresh).then(sendAll);

  if ("serviceWorker" in navigator) {
    cleared.then(function () {
      return navigator.serviceWorker.register(text.worker, {scope: text.scope});
    }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var list = document.querySelector("ol.stops");
      if (!list || !navigator.onLine || !registration.active) { return; }
      // Kept unless kept already: this page and its map data (the worker keeps them fresh once it
      // serves them), then the first stops' pages.
      var map = document.getElementById("crew-map");
      var urls = [location.href, map ? new URL(map.dataset.geojson, location.href).href : ""];
      list.querySelectorAll("a.stop-link").forEach(function (a, i) { if (i < 100) { urls.push(a.href); } });
      registration.active.postMessage({type: "keep", urls: urls.filter(Boolean)});
    }).catch(function () { return null; });
  }
})();
