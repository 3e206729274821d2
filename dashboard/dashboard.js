// dine dashboard: polls api/stats every 1.5 s and draws it (docs/dashboard.md).
// The stats fields are those of the `stats` op (docs/protocol.md, "Admin ops").
// A node with API keys answers 401/403 without an admin key: the page then
// shows a key form and sends the key as `Authorization: Bearer` (kept in
// this tab's sessionStorage only).
"use strict";

(function () {
  var C = window.dineCharts;
  var POLL_MS = 1500;
  var polls = 0;

  function $(id) { return document.getElementById(id); }

  function text(id, s) { $(id).textContent = s; }

  function cell(tr, s, cls) {
    var td = document.createElement("td");
    td.textContent = s;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderTiles(st) {
    var rq = st.requests || {};
    text("total-requests", C.fmtCount(rq.accepted));
    text("total-ok", C.fmtCount(rq.ok));
    text("total-errors", C.fmtCount(C.errorCount(st)));
    text("inflight", C.fmtCount(rq.inflight));
    var rps = (st.models || []).reduce(function (s, m) { return s + (m.rps || 0); }, 0);
    text("total-rps", C.fmtRate(rps) + " /s");
    var ratio = C.cacheHitRatio(st);
    text("cache-ratio", st.cache ? C.fmtPct(ratio) : "no cache");
    var kv = C.kvBlocks(st);
    text("kv-blocks", kv.total > 0 ? C.fmtCount(kv.used) + " / " + C.fmtCount(kv.total) : "–");
    text("worker-count", String((st.workers || []).length));
    document.body.dataset.requests = String(rq.accepted || 0);
  }

  function renderWorkers(st) {
    var tbody = $("workers").querySelector("tbody");
    tbody.textContent = "";
    (st.workers || []).forEach(function (w) {
      var tr = document.createElement("tr");
      tr.dataset.worker = w.name;
      var state = w.ejected ? "ejected" : (w.outlier && w.outlier !== "active" ? w.outlier : "healthy");
      if (state !== "healthy") tr.className = state;
      cell(tr, w.name);
      cell(tr, (w.models || []).join(", "), "text");
      cell(tr, state, "text");
      cell(tr, C.fmtCount(w.outstanding));
      cell(tr, C.fmtUs(w.latency_ewma_us));
      cell(tr, C.fmtCount(w.batches));
      cell(tr, C.fmtCount(w.items));
      cell(tr, C.fmtCount(w.failures));
      cell(tr, C.fmtPct(w.error_rate));
      cell(tr, C.fmtCount(w.ejections));
      cell(tr, w.kv_blocks_total ? C.fmtCount(w.kv_blocks_used) + " / " + C.fmtCount(w.kv_blocks_total) : "–");
      tbody.appendChild(tr);
    });
  }

  function legend(id, items) {
    var div = $(id);
    div.textContent = "";
    items.forEach(function (it) {
      var span = document.createElement("span");
      var i = document.createElement("i");
      i.style.background = it.color;
      span.appendChild(i);
      span.appendChild(document.createTextNode(it.label));
      div.appendChild(span);
    });
  }

  function renderModels(st) {
    var win = st.window || { bucket_ms: 1000 };
    var secs = (win.bucket_ms || 1000) / 1000;
    var models = st.models || [];
    var tput = [], lat = [];
    models.forEach(function (m, i) {
      var s = m.series || {};
      var color = C.color(i);
      tput.push({ label: m.model, color: color,
                  values: (s.count || []).map(function (c) { return c / secs; }) });
      var gap = function (v) { return v > 0 ? v : null; };
      lat.push({ label: m.model + " p50", color: color, values: (s.p50_us || []).map(gap) });
      lat.push({ label: m.model + " p99", color: color, dash: true, values: (s.p99_us || []).map(gap) });
    });
    var n = models.length ? ((models[0].series || {}).count || []).length : 0;
    var span = Math.round((n * secs) / 60 * 10) / 10;
    Array.prototype.forEach.call(document.querySelectorAll(".window-span"), function (e) {
      e.textContent = span + " min";
    });
    var xlabel = "last " + span + " min, " + secs + " s buckets";
    C.drawLineChart($("chart-throughput"), tput, { format: C.fmtRate, xlabel: xlabel });
    C.drawLineChart($("chart-latency"), lat, { format: C.fmtUs, xlabel: xlabel });
    legend("legend-throughput", tput);
    legend("legend-latency", models.map(function (m, i) { return { label: m.model, color: C.color(i) }; }));
    var tbody = $("models").querySelector("tbody");
    tbody.textContent = "";
    models.forEach(function (m) {
      var tr = document.createElement("tr");
      tr.dataset.model = m.model;
      cell(tr, m.model);
      cell(tr, C.fmtRate(m.rps));
      cell(tr, m.p50_us ? C.fmtUs(m.p50_us) : "–");
      cell(tr, m.p99_us ? C.fmtUs(m.p99_us) : "–");
      cell(tr, C.fmtCount(m.ok));
      cell(tr, C.fmtCount(m.errors));
      tbody.appendChild(tr);
    });
  }

  function renderHistograms(st) {
    var div = $("histograms");
    var hs = C.batchHistograms(st);
    // Keep one canvas per model across polls.
    var keep = {};
    hs.forEach(function (h, i) {
      var id = "hist-" + h.model.replace(/[^A-Za-z0-9_-]/g, "_");
      keep[id] = true;
      var canvas = document.getElementById(id);
      if (!canvas) {
        var title = document.createElement("div");
        title.className = "hist-title";
        title.id = id + "-title";
        title.textContent = h.model;
        canvas = document.createElement("canvas");
        canvas.id = id;
        canvas.className = "histogram";
        div.appendChild(title);
        div.appendChild(canvas);
      }
      // Bars for every size from 1 to the largest seen.
      var max = h.sizes.length ? h.sizes[h.sizes.length - 1][0] : 0;
      var counts = {};
      h.sizes.forEach(function (p) { counts[p[0]] = p[1]; });
      var bars = [];
      for (var s = 1; s <= max; s++) bars.push([s, counts[s] || 0]);
      C.drawBarChart(canvas, bars, { color: C.color(i) });
    });
    Array.prototype.slice.call(div.querySelectorAll("canvas")).forEach(function (c) {
      if (!keep[c.id]) {
        var t = document.getElementById(c.id + "-title");
        if (t) div.removeChild(t);
        div.removeChild(c);
      }
    });
  }

  function renderErrors(st) {
    var tbody = $("errors").querySelector("tbody");
    var es = (st.recent_errors || []).slice().reverse(); // newest first
    tbody.textContent = "";
    if (!es.length) {
      var tr = document.createElement("tr");
      tr.className = "none";
      var td = cell(tr, "none");
      td.colSpan = 4;
      tbody.appendChild(tr);
      return;
    }
    es.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.dataset.seq = String(e.seq);
      cell(tr, new Date(e.time_ms).toLocaleTimeString());
      cell(tr, e.model || "–", "text");
      cell(tr, e.code, "text");
      var td = cell(tr, e.message, "msg");
      td.title = e.message;
      tbody.appendChild(tr);
    });
  }

  function render(st) {
    renderTiles(st);
    renderWorkers(st);
    renderModels(st);
    renderHistograms(st);
    renderErrors(st);
  }

  function setStatus(ok, msg) {
    var s = $("status");
    s.textContent = msg;
    s.className = "status " + (ok ? "ok" : "bad");
  }

  var KEY_ITEM = "dine-api-key";

  function storedKey() {
    try { return window.sessionStorage.getItem(KEY_ITEM) || ""; } catch (e) { return ""; }
  }

  function askForKey(show) {
    $("key-form").hidden = !show;
  }

  $("key-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    try { window.sessionStorage.setItem(KEY_ITEM, $("key-input").value.trim()); } catch (e) {}
    $("key-input").value = "";
    askForKey(false);
  });

  function poll() {
    var started = Date.now();
    var headers = {};
    var key = storedKey();
    if (key) headers.Authorization = "Bearer " + key;
    fetch("api/stats", { cache: "no-store", headers: headers })
      .then(function (r) {
        return r.json().then(function (body) {
          if (r.status === 401 || r.status === 403) askForKey(true);
          if (!r.ok) {
            var e = body && body.error;
            throw new Error(e ? e.code + ": " + e.message : "HTTP " + r.status);
          }
          return body;
        });
      })
      .then(function (st) {
        render(st);
        polls++;
        document.body.dataset.polls = String(polls);
        setStatus(true, "live");
        text("updated", "updated " + new Date().toLocaleTimeString() +
             " (" + (Date.now() - started) + " ms)");
      })
      .catch(function (err) {
        setStatus(false, "no data: " + err.message);
      })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  poll();
})();
