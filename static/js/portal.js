/* Support portal: the little JavaScript the pages use (CSP: served from 'self', no eval).
 *
 * 1. Countdowns: any element with data-due="<ISO 8601>" shows the time left until
 *    (or past) that instant, refreshed every second. data-warn="<ISO>" marks when it
 *    turns amber. The server renders the first text and state, so pages work without JS.
 * 2. Elements with data-autosubmit submit their form when changed (language switch).
 */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    var text = (d ? d + "d " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    return text;
  }

  var STATES = ["sla-ok", "sla-warning", "sla-breached"];

  function setState(el, state) {
    STATES.forEach(function (c) { el.classList.remove(c); });
    el.classList.add(state);
    var row = el.closest("tr");
    if (row) {
      ["sla-row-ok", "sla-row-warning", "sla-row-breached"].forEach(function (c) { row.classList.remove(c); });
      row.classList.add(state.replace("sla-", "sla-row-"));
    }
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var warn = Date.parse(el.getAttribute("data-warn") || "");
      var left = due - now;
      var overdue = el.getAttribute("data-overdue-label") || "overdue";
      var leftLabel = el.getAttribute("data-left-label") || "left";
      el.textContent = left >= 0 ? format(left) + " " + leftLabel : format(left) + " " + overdue;
      if (left < 0) {
        setState(el, "sla-breached");
      } else if (!isNaN(warn) && now >= warn) {
        setState(el, "sla-warning");
      } else {
        setState(el, "sla-ok");
      }
    });
  }

  function init() {
    tick();
    window.setInterval(tick, 1000);
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        if (el.form) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  // htmx swaps new countdowns in: start ticking them too.
  document.addEventListener("htmx:afterSwap", function () { tick(); });
})();
