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

  // 3. Tables: each cell learns its column's heading (data-label), so on a phone the rows
  //    become cards ("Due: ..."); the scrolling wrapper is reachable by keyboard.
  function labelTables(root) {
    root.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (!wrap.hasAttribute("tabindex")) { wrap.setAttribute("tabindex", "0"); }
      var table = wrap.querySelector("table");
      if (!table) { return; }
      if (!wrap.hasAttribute("role")) {
        var cap = table.closest("section") && table.closest("section").querySelector("h2");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", cap ? cap.textContent.trim() : document.title);
      }
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, i) {
          if (heads[i] && !td.hasAttribute("data-label")) { td.setAttribute("data-label", heads[i]); }
        });
      });
    });
  }

  // 4. A <select data-modes='{"<service id>": ["mode", ...]}' data-modes-for="<select id>">
  //    offers only the modes of the service chosen in the other select.
  function limitModes(select) {
    var other = document.getElementById(select.getAttribute("data-modes-for"));
    if (!other) { return; }
    var modes;
    try { modes = JSON.parse(select.getAttribute("data-modes")); } catch (e) { return; }
    var allowed = modes[other.value];
    var first = null;
    Array.prototype.forEach.call(select.options, function (opt) {
      var ok = !allowed || allowed.indexOf(opt.value) !== -1;
      opt.hidden = !ok;
      opt.disabled = !ok;
      if (ok && first === null) { first = opt.value; }
    });
    if (select.selectedOptions.length && select.selectedOptions[0].disabled && first !== null) {
      select.value = first;
    }
  }

  function init() {
    labelTables(document);
    document.querySelectorAll("select[data-modes]").forEach(function (select) {
      limitModes(select);
      var other = document.getElementById(select.getAttribute("data-modes-for"));
      if (other) { other.addEventListener("change", function () { limitModes(select); }); }
    });
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
  document.addEventListener("htmx:afterSwap", function () { labelTables(document); tick(); });
})();
