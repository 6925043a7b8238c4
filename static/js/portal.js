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

/* 3. Live pages (issue #17): an element #live with data-live-url polls that small
 *    endpoint every data-live-poll seconds; when its marker differs from
 *    data-live-marker, the page is fetched again and only the elements marked
 *    data-live-region are replaced (by id). Forms are outside those regions, so what
 *    the user is typing is never lost.
 * 4. Drop zones: .dropzone[data-dropzone-for=<input id>] takes dragged files into that
 *    file input and lists each chosen file with its size (too large ones flagged).
 */
(function () {
  "use strict";

  function refreshRegions(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    document.querySelectorAll("[data-live-region]").forEach(function (el) {
      if (!el.id) { return; }
      var fresh = doc.getElementById(el.id);
      if (!fresh) { return; }
      // Keep the user's own state inside a region: ticked rows of the queue.
      var ticked = {};
      el.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
        ticked[box.name + "=" + box.value] = true;
      });
      var node = document.importNode(fresh, true);
      node.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        if (ticked[box.name + "=" + box.value]) { box.checked = true; }
      });
      el.replaceWith(node);
    });
    var marker = doc.getElementById("live");
    var live = document.getElementById("live");
    if (marker && live) {
      live.setAttribute("data-live-marker", marker.getAttribute("data-live-marker"));
      live.setAttribute("data-live-url", marker.getAttribute("data-live-url"));
    }
    document.dispatchEvent(new CustomEvent("live:refreshed"));
  }

  function poll() {
    var live = document.getElementById("live");
    if (!live || document.hidden) { return; }
    var url = live.getAttribute("data-live-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || data.marker === live.getAttribute("data-live-marker")) { return null; }
        return fetch(window.location.href, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) { refreshRegions(html); } });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  function human(bytes) {
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function listFiles(zone, input) {
    var list = zone.querySelector(".chosen-files");
    if (!list) { return; }
    var max = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    list.innerHTML = "";
    Array.prototype.forEach.call(input.files || [], function (file) {
      var li = document.createElement("li");
      li.textContent = file.name + " · " + human(file.size);
      if ((max && file.size > max) || file.size === 0) { li.className = "too-large"; }
      list.appendChild(li);
    });
  }

  function initDropzones() {
    document.querySelectorAll(".dropzone[data-dropzone-for]").forEach(function (zone) {
      var input = document.getElementById(zone.getAttribute("data-dropzone-for"));
      if (!input) { return; }
      input.addEventListener("change", function () { listFiles(zone, input); });
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
      });
      zone.addEventListener("drop", function (e) {
        e.preventDefault();
        if (!e.dataTransfer || !e.dataTransfer.files.length) { return; }
        var transfer = new DataTransfer();
        var files = input.multiple ? e.dataTransfer.files : [e.dataTransfer.files[0]];
        Array.prototype.forEach.call(files, function (f) { transfer.items.add(f); });
        input.files = transfer.files;
        listFiles(zone, input);
      });
    });
  }

  function init() {
    initDropzones();
    var live = document.getElementById("live");
    if (live) {
      var seconds = parseFloat(live.getAttribute("data-live-poll") || "10");
      window.setInterval(poll, Math.max(seconds, 1) * 1000);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
