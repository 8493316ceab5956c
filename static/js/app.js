// Small enhancements only: every form works without this file.
"use strict";

function enhanceSteppers(root) {
  root.querySelectorAll(".stepper").forEach((row) => {
    row.classList.add("enhanced");
    row.querySelectorAll("button.step").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => {
        const input = document.getElementById(button.dataset.target);
        const current = parseInt(input.value, 10) || 0;
        const next = Math.min(999, Math.max(0, current + parseInt(button.dataset.step, 10)));
        input.value = String(next);
        input.setAttribute("value", String(next));
      });
    });
  });
}

function enhanceReferrals(root) {
  const slots = Array.from(root.querySelectorAll("fieldset.referral"));
  const add = root.querySelector("button.add-referral");
  if (!slots.length || !add) return;
  const filled = (slot) => slot.querySelector("select").value !== "";
  let shown = Math.max(1, slots.filter(filled).length);
  const render = () => {
    slots.forEach((slot, index) => { slot.hidden = index >= shown; });
    add.hidden = shown >= slots.length;
  };
  add.addEventListener("click", () => {
    shown += 1;
    render();
    slots[shown - 1].querySelector("select").focus();
  });
  document.addEventListener("contact-form-reset", () => {
    shown = 1;
    render();
  });
  document.addEventListener("contact-form-filled", (event) => {
    const loaded = (event.detail && event.detail.referrals) || 0;
    shown = Math.min(slots.length, Math.max(1, loaded, slots.filter(filled).length));
    render();
  });
  render();
}

function enhanceBackLinks(root) {
  root.querySelectorAll("[data-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (history.length > 1) {
        event.preventDefault();
        history.back();
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  enhanceSteppers(document);
  enhanceReferrals(document);
  enhanceBackLinks(document);
});
