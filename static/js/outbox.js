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
  function parisMinute(milliseconds) {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-GB", {
        timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      }).formatToParts(new Date(milliseconds)).map((part) => [part.type, part.value])
    );
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
  }

  const serverNow = () => Date.now() + clockOffset;
  const localNow = () => parisMinute(serverNow());

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

  // ------------------------------------------------------------ field errors on the form

  const contactForm = () => document.querySelector("form.contact-form[data-offline]");
  const fieldLabels = JSON.parse(text.fields || "{}");

  // The referral slot of the index-th referral sent (empty slots are not sent).
  // While a refused contact is corrected, its i-th referral sits in slot i (loadIntoForm),
  // even when its destination is no longer offered and the slot's choice reads empty.
  function referralSlot(form, index) {
    const slots = Array.from(form.querySelectorAll("fieldset.referral"));
    const filled = slots.filter((slot) => slot.querySelector("select").value !== "");
    return (correcting ? slots[index] : filled[index]) || null;
  }

  // The input a server's field path names, or the group (fieldset) it belongs to.
  function fieldOf(form, key) {
    const [head, sub, leaf] = key.split(".");
    if (head === "materials" && sub) return form.querySelector(`#material-${CSS.escape(sub)}`);
    if (head === "referrals" && sub && leaf) return referralSlot(form, Number(sub))?.querySelector("select") || null;
    if (!sub && ["occurred_at", "zone", "person_code"].includes(head)) return form.elements[head];
    return null;
  }

  function groupOf(form, key) {
    const head = key.split(".")[0];
    if (["gender", "age_band", "housing", "needs"].includes(head)) {
      return form.querySelector(`input[name="${head}"]`)?.closest("fieldset") || null;
    }
    if (head === "materials") return form.querySelector("fieldset.materials");
    if (head === "referrals") return form.querySelector("details.referrals");
    return null;
  }

  // A field's name as the worker reads it: never the code of the field.
  function labelOf(key) {
    const form = contactForm();
    const field = form && fieldOf(form, key);
    if (field) {
      const slot = field.closest("fieldset.referral");
      if (slot) return slot.querySelector("legend").textContent.trim();
      const label = form.querySelector(`label[for="${CSS.escape(field.id)}"]`);
      if (label) return label.textContent.trim();
    }
    return fieldLabels[key.split(".")[0]] || "";
  }

  function describedBy(node, id) {
    const ids = (node.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    node.setAttribute("aria-describedby", [...ids, id].join(" "));
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error, .flash-error").forEach((node) => node.remove());
    form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    form.querySelectorAll("[aria-describedby]").forEach((node) => {
      const ids = node.getAttribute("aria-describedby").split(" ").filter((id) => !id.startsWith("error-"));
      if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
      else node.removeAttribute("aria-describedby");
    });
  }

  // Each message beside its field, as the server's own form shows them; what has no field
  // on the form goes to the banner at the top, under its label.
  function showErrors(form, errors, heading) {
    clearErrors(form);
    document.getElementById("saved-note")?.remove();
    const banner = document.createElement("div");
    banner.className = "flash flash-error";
    banner.setAttribute("role", "alert");
    banner.dataset.testid = "form-errors";
    banner.tabIndex = -1;
    const lead = document.createElement("p");
    lead.textContent = heading;
    banner.append(lead);
    for (const [key, messages] of Object.entries(errors)) {
      const id = `error-${key.replace(/[^\w-]/g, "-")}`;
      const note = document.createElement("p");
      note.className = "field-error";
      note.id = id;
      note.textContent = messages.join(" ");
      const field = fieldOf(form, key);
      const group = field ? null : groupOf(form, key);
      if (field) {
        field.setAttribute("aria-invalid", "true");
        describedBy(field, id);
        field.closest(".field, .stepper, fieldset.referral").append(note);
      } else if (group) {
        describedBy(group, id);
        group.append(note);
      } else {
        const label = labelOf(key);
        note.textContent = label ? `${label} : ${note.textContent}` : note.textContent;
        banner.append(note);
        continue;
      }
      for (let details = note.closest("details"); details; details = details.parentElement.closest("details")) {
        details.open = true;
      }
    }
    form.prepend(banner);
    const first = form.querySelector('[aria-invalid="true"]');
    (first || banner).focus();
    if (!first) window.scrollTo(0, 0);
  }

  // What the phone can check before it queues a contact, with the server's messages.
  function phoneErrors(form, body) {
    const checks = JSON.parse(form.dataset.checks || "{}");
    const errors = {};
    const add = (key, message) => { (errors[key] = errors[key] || []).push(message); };
    const when = body.occurred_at || "";
    const minute = 60 * 1000;
    if (!when) add("occurred_at", checks.timeMissing);
    else if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(when)) add("occurred_at", checks.timeUnreadable);
    else if (when > parisMinute(serverNow() + checks.maxSkewMinutes * minute)) add("occurred_at", checks.timeInFuture);
    else if (when < parisMinute(serverNow() - checks.maxAgeDays * 24 * 60 * minute)) add("occurred_at", checks.timeTooOld);
    if (!body.zone) add("zone", checks.zoneMissing);
    for (const [code, quantity] of Object.entries(body.materials)) {
      if (!Number.isInteger(quantity)) add(`materials.${code}`, checks.wholeNumber);
      else if (quantity < 0 || quantity > checks.maxQuantity) add(`materials.${code}`, checks.quantityRange);
    }
    const destinations = new Set();
    body.referrals.forEach((referral, index) => {
      if (destinations.has(referral.destination)) add(`referrals.${index}.destination`, checks.destinationTwice);
      destinations.add(referral.destination);
    });
    return Object.keys(errors).length ? errors : null;
  }

  // ------------------------------------------------------------ the person code, for the server only

  const base64url = {
    decode: (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    encode: (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
  };

  // The code is sealed with the server's public key before it is queued (ECIES, as
  // outreach/capture/code_seal.py opens it): the phone cannot open it again, so a copy of
  // its storage, keys included, does not give the code.
  async function sealCode(code, serverKey) {
    const subtle = crypto.subtle;
    const server = await subtle.importKey("raw", base64url.decode(serverKey), { name: "ECDH", namedCurve: "P-256" }, false, []);
    const ephemeral = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const shared = await subtle.deriveBits({ name: "ECDH", public: server }, ephemeral.privateKey, 256);
    const material = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
    const key = await subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode("maraudes person code v1") },
      material, { name: "AES-GCM", length: 256 }, false, ["encrypt"]
    );
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, new TextEncoder().encode(code)));
    const point = new Uint8Array(await subtle.exportKey("raw", ephemeral.publicKey));
    const envelope = new Uint8Array(point.length + nonce.length + sealed.length);
    envelope.set(point, 0);
    envelope.set(nonce, point.length);
    envelope.set(sealed, point.length + nonce.length);
    return `sealed:v1:${base64url.encode(envelope)}`;
  }

  async function withSealedCode(form, body) {
    const serverKey = form.dataset.personCodeKey;
    if (!body.person_code || body.person_code.startsWith("sealed:") || !serverKey || !(self.crypto && crypto.subtle)) {
      return body;
    }
    return { ...body, person_code: await sealCode(body.person_code, serverKey) };
  }

  // ------------------------------------------------------------ correcting a refused contact

  // The refused entry being corrected in the form: {entry, body}, or null.
  let correcting = null;

  function loadIntoForm(form, body) {
    const setChecked = (name, values) => {
      form.querySelectorAll(`input[name="${name}"]`).forEach((input) => {
        input.checked = values.includes(input.value);
      });
    };
    if (form.elements.zone.querySelector(`option[value="${CSS.escape(body.zone || "")}"]`)) {
      form.elements.zone.value = body.zone;
    }
    form.elements.occurred_at.value = body.occurred_at || "";
    form.elements.occurred_at.dataset.setByWorker = "1";
    const when = form.querySelector("[data-when]");
    if (when) when.textContent = (body.occurred_at || "").slice(11, 16);
    for (const name of ["gender", "age_band", "housing"]) setChecked(name, [body[name]]);
    setChecked("first_contact", body.first_contact ? ["1"] : []);
    setChecked("needs", body.needs || []);
    form.querySelectorAll("input.qty").forEach((input) => {
      const given = (body.materials || {})[input.id.slice("material-".length)];
      input.value = given === undefined ? "0" : String(given);
    });
    (body.referrals || []).forEach((referral, slot) => {
      const select = form.elements[`referral-${slot}-destination`];
      if (!select) return;
      select.value = referral.destination;
      form.elements[`referral-${slot}-accompanied`].checked = Boolean(referral.accompanied);
    });
    document.dispatchEvent(new CustomEvent("contact-form-filled", { detail: { referrals: (body.referrals || []).length } }));
  }

  // Something typed for the next person that "Corriger" would replace.
  function formTyped(form) {
    return (
      Boolean(form.elements.person_code.value) ||
      form.querySelector('input[type="checkbox"]:checked') !== null ||
      Array.from(form.querySelectorAll("input.qty")).some((input) => input.value !== "0" && input.value !== "") ||
      Array.from(form.querySelectorAll("fieldset.referral select")).some((select) => select.value !== "")
    );
  }

  async function startCorrection(entry) {
    const form = contactForm();
    if (!correcting && formTyped(form) && !window.confirm(text.correctReplaces)) return;
    const body = await OutboxCore.bodyOf(entry);
    const notes = await OutboxCore.notesOf(entry);
    resetForNext(form);
    correcting = { entry, body, errors: notes.errors || {} };
    loadIntoForm(form, body);
    const when = contactTime(body, entry);
    const errors = entry.state === "conflict" ? {} : { ...correcting.errors };
    showErrors(form, errors, fill(text.correcting, { time: when }));
    const banner = form.querySelector('[data-testid="form-errors"]');
    if (body.person_code && !errors.person_code) {
      const kept = document.createElement("p");
      kept.textContent = text.codeKept;
      banner.append(kept);
    }
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button small";
    cancel.textContent = text.cancelCorrection;
    cancel.addEventListener("click", () => resetForNext(form));
    banner.append(cancel);
  }

  // The corrected contact keeps what the form cannot show again: the person's code (never
  // put back into the page) and its patrol, unless the server refused them.
  function corrected(body) {
    const refusedFields = correcting.errors;
    if (!body.person_code && !refusedFields.person_code) body.person_code = correcting.body.person_code || null;
    if (correcting.body.patrol_id !== null && !refusedFields.patrol_id) body.patrol_id = correcting.body.patrol_id;
    return body;
  }

  function resetForNext(form) {
    correcting = null;
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
    clearErrors(form);
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

  const timeOf = (iso) =>
    new Date(iso).toLocaleTimeString(document.documentElement.lang || "fr", { hour: "2-digit", minute: "2-digit" });

  // A refused contact is named by its own time (Paris, as typed), not the phone's clock.
  const contactTime = (body, entry) => (body && body.occurred_at ? body.occurred_at.slice(11, 16) : timeOf(entry.queuedAt));

  async function render() {
    const all = await OutboxCore.entries();
    const entries = all.filter((entry) => OutboxCore.ownedBy(entry, account));
    const others = all.length - entries.length;
    const waiting = entries.filter((entry) => entry.state === "pending");
    const failed = entries.filter((entry) => entry.state !== "pending");
    // Opened before the panel is emptied: two renders never interleave their items.
    const opened = await Promise.all(
      failed.map(async (entry) => ({
        entry,
        notes: await OutboxCore.notesOf(entry).catch(() => ({ errors: {} })),
        body: await OutboxCore.bodyOf(entry).catch(() => null),
      }))
    );
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
      const time = timeOf(since);
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
    for (const { entry, notes, body } of opened) {
      const item = document.createElement("div");
      item.className = "flash flash-error";
      item.dataset.testid = "outbox-refused";
      const messages = Object.entries(notes.errors || {}).map(([key, list]) => {
        const label = labelOf(key);
        return label ? `${label} : ${list.join(" ")}` : list.join(" ");
      });
      const heading = fill(entry.state === "conflict" ? text.conflict : text.invalid, { time: contactTime(body, entry) });
      item.textContent = `${heading} ${messages.join(" · ")}`;
      if (contactForm()) {
        const fix = document.createElement("button");
        fix.type = "button";
        fix.className = "button small primary";
        fix.textContent = text.correct;
        fix.addEventListener("click", () => startCorrection(entry));
        item.append(" ", fix);
      } else {
        item.append(" ", text.correctElsewhere);
      }
      const discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button small";
      discard.textContent = text.discard;
      discard.addEventListener("click", async () => {
        if (window.confirm(text.discardConfirm)) {
          await OutboxCore.remove(entry.id);
          if (correcting && correcting.entry.id === entry.id) resetForNext(contactForm());
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
      const when = form.querySelector("[data-when]");
      if (when) when.textContent = form.elements.occurred_at.value.slice(11, 16);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (saving) return;
      // The reset form sits under the same finger: a second tap must not save a blank contact.
      saving = true;
      save.disabled = true;
      clockOffset = await OutboxCore.clockOffset();
      const body = correcting ? corrected(payloadOf(form)) : payloadOf(form);
      const problems = phoneErrors(form, body);
      if (problems) {
        showErrors(form, problems, text.notSaved);
        saving = false;
        save.disabled = false;
        return;
      }
      try {
        const queued = await withSealedCode(form, body);
        if (correcting) await OutboxCore.correct(correcting.entry, queued, account);
        else await OutboxCore.add(queued, account);
      } catch (error) {
        // Not kept on the phone (storage refused, entry corrected elsewhere): the values stay
        // in the form, and with a network the form posts them as it does without JavaScript.
        saving = false;
        save.disabled = false;
        if (navigator.onLine && !correcting) {
          form.submit();
          return;
        }
        showErrors(form, {}, correcting ? text.correctionGone : text.notKept);
        await render();
        return;
      }
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

  // The form's cached shell carries the account that loaded it: another account must never
  // be served it offline. Dropped on the login page and at logout.
  async function forgetFormShells() {
    if (!("caches" in window)) return;
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (/\/patrols\/\d+\/contacts\/new$/.test(new URL(request.url).pathname)) await cache.delete(request);
      }
    }
  }

  function warnBeforeLogout() {
    const logout = document.querySelector("form.logout");
    if (!logout) return;
    logout.addEventListener("submit", async (event) => {
      if (logout.dataset.confirmed) return;
      event.preventDefault();
      const waiting = (await OutboxCore.entries()).filter((entry) => OutboxCore.ownedBy(entry, account)).length;
      if (!waiting || window.confirm(fill(text.logoutWarning, { n: waiting }))) {
        await forgetFormShells().catch(() => {});
        logout.dataset.confirmed = "1";
        logout.requestSubmit();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const token = document.querySelector('meta[name="csrf-token"]');
    if (token && panel.dataset.authenticated) await OutboxCore.setMeta("csrf", token.content);
    await OutboxCore.setMeta("owner", account);
    if (panel.dataset.loginPage) await forgetFormShells().catch(() => {});
    await OutboxCore.sealWaiting().catch(() => {});
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
