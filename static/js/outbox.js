/* Offline-first capture on the page: the new-contact form saves into the outbox,
   which syncs on load, when the network returns, every 20 s and on demand.
   Without JavaScript the form posts as usual. */
"use strict";

(() => {
  const SYNC_EVERY_MS = 20000;
  const panel = document.getElementById("outbox");
  if (!panel || !("indexedDB" in window)) return;
  const text = panel.dataset;
  // The logged-in account, as "user:association" ("" on a logged-out page).
  const account = panel.dataset.owner || "";
  let syncing = false;
  let needsLogin = false;
  let offlineNotice = false;
  let storageNotice = "";
  let clockOffset = 0;

  function newId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // The form takes Paris wall-clock time, whatever the phone's own time zone.
  function localNow() {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).formatToParts(new Date(Date.now() + clockOffset)).map((part) => [part.type, part.value])
    );
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
  }

  // The HTML form, in the API's JSON shape (as the server's contact_payload_from_form does).
  function payloadOf(form) {
    const data = new FormData(form);
    const materials = {};
    const referrals = [];
    for (const [key, value] of data.entries()) {
      if (key.startsWith("material-") && value.trim() !== "" && value.trim() !== "0") {
        const number = Number(value);
        materials[key.slice("material-".length)] = Number.isInteger(number) ? number : value;
      }
    }
    for (let slot = 0; data.has(`referral-${slot}-destination`); slot += 1) {
      const destination = data.get(`referral-${slot}-destination`);
      if (destination) {
        referrals.push({ destination, accompanied: data.get(`referral-${slot}-accompanied`) === "1" });
      }
    }
    const patrol = form.dataset.patrolId;
    return {
      id: newId(),
      occurred_at: form.elements.occurred_at.dataset.setByWorker ? data.get("occurred_at") : localNow(),
      zone: data.get("zone"),
      patrol_id: patrol ? Number(patrol) : null,
      person_code: data.get("person_code") || null,
      gender: data.get("gender") || "unknown",
      age_band: data.get("age_band") || "unknown",
      housing: data.get("housing") || "unknown",
      first_contact: data.get("first_contact") === "1",
      needs: data.getAll("needs"),
      materials,
      referrals,
    };
  }

  function resetForNext(form) {
    const zone = form.elements.zone.value;
    form.reset();
    form.elements.zone.value = zone;
    form.elements.occurred_at.value = localNow();
    delete form.elements.occurred_at.dataset.setByWorker;
    form.querySelectorAll("input.qty").forEach((input) => {
      input.setAttribute("value", "0");
      input.value = "0";
    });
    const when = form.querySelector("[data-when]");
    if (when) when.textContent = form.elements.occurred_at.value.slice(11, 16);
    form.querySelectorAll(".field-error, .flash-error").forEach((node) => node.remove());
    document.dispatchEvent(new CustomEvent("contact-form-reset"));
  }

  function confirmSaved(form) {
    let note = document.getElementById("saved-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "saved-note";
      note.className = "flash flash-success";
      note.setAttribute("role", "status");
      note.tabIndex = -1;
      form.prepend(note);
    }
    note.textContent = text.saved;
    window.scrollTo(0, 0);
    note.focus();
  }

  async function render() {
    const all = await OutboxCore.entries();
    const entries = all.filter((entry) => OutboxCore.ownedBy(entry, account));
    const others = all.length - entries.length;
    const waiting = entries.filter((entry) => entry.state === "pending");
    const failed = entries.filter((entry) => entry.state !== "pending");
    panel.hidden = !entries.length && !needsLogin && !others;
    panel.replaceChildren();
    if (offlineNotice && waitingCount(entries)) {
      const line = document.createElement("p");
      line.dataset.testid = "outbox-offline";
      line.setAttribute("role", "alert");
      line.textContent = fill(text.noNetwork, { n: waitingCount(entries) });
      panel.append(line);
    }
    if (storageNotice && entries.length) {
      const line = document.createElement("p");
      line.dataset.testid = "outbox-storage";
      line.textContent = storageNotice;
      panel.append(line);
    }
    if (others) {
      // Another account's contacts: never shown nor sent here, but never hidden either.
      const line = document.createElement("p");
      line.dataset.testid = "outbox-others";
      line.textContent = fill(text.others, { n: others });
      panel.append(line);
    }
    if (waiting.length) {
      const since = waiting.map((entry) => entry.queuedAt).sort()[0];
      const time = new Date(since).toLocaleTimeString(document.documentElement.lang || "fr", { hour: "2-digit", minute: "2-digit" });
      const line = document.createElement("p");
      line.dataset.testid = "outbox-count";
      line.textContent = fill(text.waiting, { n: waiting.length, time });
      panel.append(line);
    }
    if (needsLogin) {
      const link = document.createElement("a");
      link.className = "button primary";
      link.href = `/login?next=${encodeURIComponent(location.pathname)}`;
      link.textContent = text.login;
      panel.append(link);
    } else if (waiting.length) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = text.syncNow;
      button.addEventListener("click", () => {
        offlineNotice = !navigator.onLine;
        if (offlineNotice) render();
        else sync();
      });
      panel.append(button);
    }
    for (const entry of failed) {
      const item = document.createElement("div");
      item.className = "flash flash-error";
      const messages = Object.entries(entry.errors || {}).map(([field, list]) => `${field} : ${list.join(" ")}`);
      const when = new Date(entry.queuedAt).toLocaleTimeString(document.documentElement.lang || "fr", { hour: "2-digit", minute: "2-digit" });
      item.textContent = `${fill(entry.state === "conflict" ? text.conflict : text.invalid, { time: when })} ${messages.join(" · ")}`;
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button small";
      discard.textContent = text.discard;
      discard.addEventListener("click", async () => {
        if (window.confirm(text.discardConfirm)) {
          await OutboxCore.remove(entry.id);
          render();
        }
      });
      item.append(" ", discard);
      panel.append(item);
    }
  }

  async function sync() {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    try {
      const result = await OutboxCore.sync();
      needsLogin = result.status === "login";
      if (result.status === "synced" && result.sent) {
        const remaining = (await OutboxCore.entries()).filter(
          (e) => e.state === "pending" && OutboxCore.ownedBy(e, account)
        );
        if (remaining.length) setTimeout(sync, 0); // more than one batch waited
      }
    } finally {
      syncing = false;
      clockOffset = await OutboxCore.clockOffset();
      await render();
    }
  }

  function waitingCount(entries) {
    return entries.filter((entry) => entry.state === "pending").length;
  }

  // Ask the browser to keep the outbox when it clears storage, and say when it may not.
  async function checkStorage() {
    if (!navigator.storage) return;
    let persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    if (!persisted && navigator.storage.persist) persisted = await navigator.storage.persist();
    let low = false;
    if (navigator.storage.estimate) {
      const { quota, usage } = await navigator.storage.estimate();
      low = Boolean(quota) && quota - usage < 5 * 1024 * 1024;
    }
    storageNotice = low ? text.storageLow : persisted ? "" : text.storageNotPersisted;
  }

  function interceptContactForm() {
    const form = document.querySelector("form.contact-form[data-offline]");
    if (!form) return;
    const save = form.querySelector('button[type="submit"]');
    let saving = false;
    // The time is the moment of saving unless the worker sets it.
    form.elements.occurred_at.addEventListener("input", () => {
      form.elements.occurred_at.dataset.setByWorker = "1";
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (saving) return;
      // The reset form sits under the same finger: a second tap must not save a blank contact.
      saving = true;
      save.disabled = true;
      clockOffset = await OutboxCore.clockOffset();
      await OutboxCore.add(payloadOf(form), account);
      resetForNext(form);
      confirmSaved(form);
      setTimeout(() => {
        saving = false;
        save.disabled = false;
      }, 1200);
      await render();
      if ("serviceWorker" in navigator && "SyncManager" in window) {
        navigator.serviceWorker.ready.then((registration) => registration.sync.register("outbox")).catch(() => {});
      }
      sync();
    });
  }

  function warnBeforeLogout() {
    const logout = document.querySelector("form.logout");
    if (!logout) return;
    logout.addEventListener("submit", async (event) => {
      if (logout.dataset.confirmed) return;
      event.preventDefault();
      const waiting = (await OutboxCore.entries()).filter((entry) => OutboxCore.ownedBy(entry, account)).length;
      if (!waiting || window.confirm(fill(text.logoutWarning, { n: waiting }))) {
        logout.dataset.confirmed = "1";
        logout.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token && panel.dataset.authenticated) await OutboxCore.setMeta("csrf", token.content);
    await OutboxCore.setMeta("owner", account);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js").catch(() => {});
      if (document.querySelector("form.contact-form[data-offline]")) {
        navigator.serviceWorker.ready.then((registration) => {
          if (registration.active) registration.active.postMessage({ cacheShell: location.pathname });
        });
      }
    }
    interceptContactForm();
    warnBeforeLogout();
    await checkStorage().catch(() => {});
    if (navigator.onLine && panel.dataset.authenticated) await OutboxCore.freshToken();
    clockOffset = await OutboxCore.clockOffset();
    window.addEventListener("online", () => {
      offlineNotice = false;
      sync();
    });
    setInterval(sync, SYNC_EVERY_MS);
    await render();
    sync();
  });
})();
