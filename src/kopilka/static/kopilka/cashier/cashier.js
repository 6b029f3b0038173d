// The cashier screen's keyboard: shortcuts, the barcode scanner with the cursor anywhere,
// and where the focus goes after each answer. Everything else is HTMX in the markup.
(() => {
  "use strict";

  // A keyboard-wedge scanner types a whole code a few milliseconds per key and ends it with
  // Enter; nobody types six keys in a row at 35 ms a key on average. A busy machine may
  // delay one key now and then, so a single slow key does not break the burst.
  const SCAN_BREAK_MS = 100;
  const SCAN_AVERAGE_MS = 35;
  const SCAN_ENTER_MS = 250;
  const SCAN_MIN_LENGTH = 6;
  let burst = null;

  const byId = (id) => document.getElementById(id);

  function press(selector) {
    const element = document.querySelector(selector);
    if (element && !element.disabled) {
      element.click();
      return true;
    }
    return false;
  }

  function focusField(id) {
    const element = byId(id);
    if (!element) return false;
    element.focus();
    if (element.select) element.select();
    return true;
  }

  function focusRequested() {
    const element = document.querySelector("[data-focus]");
    if (!element) return;
    element.removeAttribute("data-focus");
    element.focus();
    if (element.select) element.select();
  }

  function startBurst(now) {
    const target = document.activeElement;
    const editable = target && "value" in target && typeof target.selectionStart === "number";
    burst = {
      code: "",
      first: now,
      last: now,
      target,
      value: editable ? target.value : null,
      start: editable ? target.selectionStart : null,
      end: editable ? target.selectionEnd : null,
    };
  }

  // The scanned characters landed in whatever field had the focus: put it back as it was.
  function undoBurst(scan) {
    if (scan.value === null) return;
    scan.target.value = scan.value;
    scan.target.setSelectionRange(scan.start, scan.end);
  }

  function route(code) {
    byId("scan-code").value = code;
    byId("scan-form").requestSubmit();
  }

  function isScan(scan, enterAt) {
    if (!scan || scan.code.length < SCAN_MIN_LENGTH) return false;
    const average = (scan.last - scan.first) / (scan.code.length - 1);
    return average <= SCAN_AVERAGE_MS && enterAt - scan.last <= SCAN_ENTER_MS;
  }

  function onScannerKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const now = performance.now();
    if (event.key === "Enter") {
      const scan = burst;
      burst = null;
      if (!isScan(scan, now)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      // A field meant for a card number (registering a plastic card) keeps what was scanned.
      if (scan.target && scan.target.hasAttribute && scan.target.hasAttribute("data-scan-target")) return;
      undoBurst(scan);
      if (byId("scan-form")) route(scan.code);
      return;
    }
    if (event.key.length !== 1) {
      burst = null;
      return;
    }
    if (!burst || now - burst.last > SCAN_BREAK_MS) startBurst(now);
    burst.code += event.key;
    burst.last = now;
  }

  function spendMax() {
    const form = byId("receipt");
    if (!form || !byId("spend-max")) return;
    byId("spend-max").value = "1";
    if (byId("spend")) byId("spend").value = "";
    htmx.trigger(form, "requote");
  }

  function moveInSuggestions(event) {
    const options = Array.from(document.querySelectorAll("#suggestions .suggestion"));
    if (!options.length) return false;
    const at = options.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      options[Math.min(at + 1, options.length - 1)].focus();
      return true;
    }
    if (event.key === "ArrowUp") {
      if (at <= 0) focusField("search");
      else options[at - 1].focus();
      return true;
    }
    return false;
  }

  function closeSuggestions() {
    const list = byId("suggestions");
    if (!list || !list.children.length) return false;
    list.replaceChildren();
    focusField("search");
    return true;
  }

  const SHORTCUTS = {
    F2: () => focusField("identify"),
    F3: () => focusField("search"),
    F4: spendMax,
    F6: () => press("#new-customer"),
    F7: () => press("[data-key=F7]"),
    F9: () => press("#confirm"),
    Escape: () => closeSuggestions() || press("#new-receipt"),
  };

  function onShortcut(event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (moveInSuggestions(event)) event.preventDefault();
      return;
    }
    const action = SHORTCUTS[event.key];
    if (action && !event.ctrlKey && !event.altKey && !event.metaKey) {
      event.preventDefault();
      action();
    }
  }

  function onInput(event) {
    // Typing an amount of bonuses replaces "as much as allowed".
    if (event.target.id === "spend" && byId("spend-max")) byId("spend-max").value = "0";
  }

  // An answer is never reported as "no answer": a message the server sent (its message bar)
  // is shown as it is; any other failed answer names its status. Only a request that got no
  // answer at all says so.
  function showServerError(event) {
    const bar = byId("message");
    if (!bar) return;
    const xhr = event.detail && event.detail.xhr;
    let text = document.body.dataset.serverError;
    if (event.type === "htmx:responseError" && xhr) {
      const page = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      const sent = page.getElementById("message");
      text =
        sent && sent.textContent.trim()
          ? sent.textContent.trim()
          : `${document.body.dataset.serverFailed} (${xhr.status})`;
    }
    bar.textContent = text;
    bar.classList.add("shown");
  }

  window.addEventListener("keydown", onScannerKey, true);
  document.addEventListener("keydown", onShortcut);
  document.addEventListener("input", onInput);
  document.addEventListener("DOMContentLoaded", focusRequested);
  document.addEventListener("htmx:afterSettle", focusRequested);
  document.addEventListener("htmx:responseError", showServerError);
  document.addEventListener("htmx:sendError", showServerError);
})();
