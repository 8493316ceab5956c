/* The outbox: contacts wait in IndexedDB until the server confirms them (201 or 200).
   Shared by the pages and the service worker; no DOM here. */
"use strict";

const OutboxCore = (() => {
  const DB_NAME = "maraudes-outbox";
  const BATCH = 500;
  const URL_CONTACTS = "/api/v1/contacts";
  const URL_OPTIONS = "/api/v1/form-options";

  function promised(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function open() {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore("entries", { keyPath: "id" });
      request.result.createObjectStore("meta");
    };
    return promised(request);
  }

  async function run(storeName, mode, action) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(storeName, mode);
      let request;
      try {
        request = action(transaction.objectStore(storeName));
      } catch (error) {
        db.close();
        reject(error);
        return;
      }
      transaction.oncomplete = () => { db.close(); resolve(request && request.result); };
      transaction.onerror = transaction.onabort = () => { db.close(); reject(transaction.error); };
    });
  }

  // An answer about an entry is written only if the entry still waits: another tab or the
  // service worker may have corrected or deleted it meanwhile, and writing it back would
  // bring back a contact that now exists under another id.
  const settle = (id, changes) =>
    run("entries", "readwrite", (store) => {
      const lookup = store.get(id);
      lookup.onsuccess = () => {
        if (lookup.result && lookup.result.state === "pending") store.put({ ...lookup.result, ...changes });
      };
      return lookup;
    });
  const remove = (id) => run("entries", "readwrite", (store) => store.delete(id));
  const entries = () => run("entries", "readonly", (store) => store.getAll());
  const getMeta = (key) => run("meta", "readonly", (store) => store.get(key));
  const setMeta = (key, value) => run("meta", "readwrite", (store) => store.put(value, key));

  const get = (id) => run("entries", "readonly", (store) => store.get(id));

  // A queued contact is sealed with AES-GCM under a key the browser will not give out
  // (non-extractable): a copy of the phone's storage does not show a person's code. Where
  // the page has no WebCrypto (not a secure context), the contact waits unsealed rather
  // than not at all.
  const sealing = Boolean(self.crypto && self.crypto.subtle);

  async function sealingKey() {
    const stored = await getMeta("key");
    if (stored) return stored;
    const made = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    // Two pages may make one at the same moment: the first stored is the one all use.
    await run("meta", "readwrite", (store) => store.add(made, "key")).catch((error) => {
      if (!error || error.name !== "ConstraintError") throw error;
    });
    const key = await getMeta("key");
    if (!key) throw new Error("outbox: no sealing key could be kept");
    return key;
  }

  async function seal(body) {
    if (!sealing) return { body };
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const plain = new TextEncoder().encode(JSON.stringify(body));
    return { iv, sealed: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealingKey(), plain) };
  }

  async function bodyOf(entry) {
    if (entry.body) return entry.body;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: entry.iv }, await sealingKey(), entry.sealed);
    return JSON.parse(new TextDecoder().decode(plain));
  }

  // What the server said of a refused contact names its fields and values: sealed too.
  async function sealNotes(notes) {
    if (!sealing) return { notes };
    const { iv, sealed } = await seal(notes);
    return { notesIv: iv, notesSealed: sealed };
  }

  async function notesOf(entry) {
    if (entry.notesSealed) {
      const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: entry.notesIv }, await sealingKey(), entry.notesSealed);
      return JSON.parse(new TextDecoder().decode(plain));
    }
    return entry.notes || { errors: {}, message: "" };
  }

  const sameBody = async (entry, body) => JSON.stringify(await bodyOf(entry)) === JSON.stringify(body);

  // Only what the server needs: the contact itself (sealed), its id, when it was queued,
  // and the account that made it (only that account's session sends it). A queued entry
  // is never replaced by another body under the same id.
  async function add(body, owner) {
    const entry = { id: body.id, owner, queuedAt: new Date().toISOString(), state: "pending", ...(await seal(body)) };
    try {
      await run("entries", "readwrite", (store) => store.add(entry));
    } catch (error) {
      const queued = await get(body.id);
      if (!queued || !(await sameBody(queued, body))) {
        throw new Error("outbox: another contact is queued under this id");
      }
    }
  }

  // A refused contact, corrected by its author: queued again under a new id (the server
  // may hold the old one), in the same transaction that drops the refused entry, and only
  // if that entry is still there and still refused (another tab may have corrected it).
  async function correct(refused, body, owner) {
    const entry = { id: body.id, owner, queuedAt: refused.queuedAt, state: "pending", ...(await seal(body)) };
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction("entries", "readwrite");
      const store = transaction.objectStore("entries");
      const lookup = store.get(refused.id);
      lookup.onsuccess = () => {
        if (!lookup.result || lookup.result.state === "pending") {
          transaction.abort();
          return;
        }
        store.delete(refused.id);
        store.add(entry);
      };
      transaction.oncomplete = () => { db.close(); resolve(); };
      transaction.onerror = transaction.onabort = () => {
        db.close();
        reject(transaction.error || new Error("outbox: this contact was already corrected or deleted"));
      };
    });
  }

  // Contacts queued in clear (before sealing, or on a page without WebCrypto) are sealed
  // as soon as a page can.
  async function sealWaiting() {
    if (!sealing) return;
    for (const entry of await entries()) {
      if (!entry.body) continue;
      const { body, ...rest } = entry;
      const sealed = { ...rest, ...(await seal(body)) };
      await run("entries", "readwrite", (store) => {
        const lookup = store.get(entry.id);
        lookup.onsuccess = () => { if (lookup.result && lookup.result.body) store.put(sealed); };
        return lookup;
      });
    }
  }

  // The account logged in on this phone now ("" when none): the pages set it, the service
  // worker's background sync reads it.
  const owner = async () => (await getMeta("owner")) || "";
  const ownedBy = (entry, account) => account !== "" && (entry.owner || account) === account;

  // The offset between the server's clock (its Date header) and the phone's, learnt at each answer.
  async function learnClock(response) {
    const server = Date.parse(response.headers.get("Date") || "");
    if (!Number.isNaN(server)) await setMeta("clockOffset", server - Date.now());
  }

  const clockOffset = async () => (await getMeta("clockOffset")) || 0;

  async function freshToken() {
    let response;
    try {
      response = await fetch(URL_OPTIONS, { credentials: "same-origin" });
    } catch (error) {
      return { status: "offline" };
    }
    await learnClock(response);
    if (response.status === 401 || response.status === 403 || response.redirected) {
      return { status: "login" };
    }
    if (!response.ok) return { status: "error" };
    const token = (await response.json()).csrf_token;
    await setMeta("csrf", token);
    return { status: "ok", token };
  }

  // Worth sending again: a timeout, too many requests, a server error (and no answer at all).
  const RETRIED = new Set([408, 429]);

  // Retry-After in seconds or as an HTTP date; without it, the next periodic sync.
  function retryDelay(header) {
    if (!header) return 0;
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds) * 1000;
    const when = Date.parse(header);
    return Number.isNaN(when) ? 0 : Math.max(0, when - Date.now());
  }

  async function post(batch, token) {
    return fetch(URL_CONTACTS, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token || "" },
      body: JSON.stringify(batch),
    });
  }

  // Sends what waits; returns {status: idle|synced|offline|login|error, sent, failed}.
  async function sync() {
    const account = await owner();
    const queued = (await entries())
      .filter((entry) => entry.state === "pending" && ownedBy(entry, account))
      .sort((a, b) => a.queuedAt.localeCompare(b.queuedAt))
      .slice(0, BATCH);
    if (!queued.length) return { status: "idle", sent: 0, failed: 0 };
    if (Date.now() < ((await getMeta("retryAt")) || 0)) return { status: "error", sent: 0, failed: 0 };
    // An entry that cannot be opened stays where it is: nothing is deleted unread.
    const pending = [];
    const bodies = [];
    for (const entry of queued) {
      try {
        bodies.push(await bodyOf(entry));
      } catch (error) {
        continue;
      }
      pending.push(entry);
    }
    if (!pending.length) return { status: "error", sent: 0, failed: 0 };
    let response;
    try {
      response = await post(bodies, await getMeta("csrf"));
      if (response.status === 400) {
        // The CSRF token went stale (new session): fetch a fresh one and try once more.
        const fresh = await freshToken();
        if (fresh.status !== "ok") return { status: fresh.status, sent: 0, failed: 0 };
        response = await post(bodies, fresh.token);
      }
    } catch (error) {
      return { status: "offline", sent: 0, failed: 0 };
    }
    await learnClock(response);
    if (response.status === 401 || response.status === 403) return { status: "login", sent: 0, failed: 0 };
    if (RETRIED.has(response.status) || response.status >= 500) {
      await setMeta("retryAt", Date.now() + retryDelay(response.headers.get("Retry-After")));
      return { status: "error", sent: 0, failed: 0 };
    }
    if (!response.ok) {
      // Any other refusal of the whole batch will not change by sending it again.
      let errors = {};
      try { errors = (await response.json()).errors || {}; } catch (error) { errors = {}; }
      const notes = await sealNotes({ errors, message: "" });
      for (const entry of pending) await settle(entry.id, { state: "invalid", ...notes });
      return { status: "synced", sent: 0, failed: pending.length };
    }
    const results = (await response.json()).results || [];
    let sent = 0;
    let failed = 0;
    for (const [index, result] of results.entries()) {
      const entry = pending[index];
      if (!entry) continue;
      if (result.status === "created" || result.status === "unchanged") {
        await remove(entry.id);
        sent += 1;
      } else {
        failed += 1;
        const notes = await sealNotes({ errors: result.errors || {}, message: result.message || "" });
        await settle(entry.id, { state: result.status, ...notes });
      }
    }
    return { status: "synced", sent, failed };
  }

  return { add, bodyOf, clockOffset, correct, entries, freshToken, notesOf, ownedBy, remove, sealWaiting, setMeta, sync };
})();

if (typeof self !== "undefined") self.OutboxCore = OutboxCore;
