/* The managers' page: live board over Socket.IO /manager, reports (Chart.js), bad reviews,
   hall settings. Everything it needs comes from #manager-config; all calls are the JSON API
   with a bearer token. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("manager-config").textContent);
  var lang = config.lang === "en" ? "en" : "zh";
  var t = config.strings;  // the page's strings from the server's catalogue, in its language
  var names = config.names || {};
  function nameOf(kind, code, fallback) {
    var table = names[kind] || {};
    return Object.prototype.hasOwnProperty.call(table, String(code)) ? table[String(code)] : fallback;
  }
  var token = config.token;
  var user = config.user;
  var socket = null;
  var chart = null;
  var seenAlerts = {};

  function $(selector) { return document.querySelector(selector); }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var minutes = Math.floor(seconds / 60);
    return minutes > 0 ? minutes + t.min + (seconds % 60 ? " " + Math.round(seconds % 60) + t.s : "")
                       : Math.round(seconds) + t.s;
  }
  function cell(row, text, className) { var td = el("td", text, className); row.appendChild(td); return td; }

  document.querySelectorAll("[data-t]").forEach(function (node) {
    node.textContent = t[node.getAttribute("data-t")] || node.textContent;
  });

  // -- API ------------------------------------------------------------------------------
  function api(method, path, body) {
    var options = { method: method, headers: { Authorization: "Bearer " + token, "Accept-Language": lang } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(config.urls.api + path, options).then(function (response) {
      if (response.status === 401) {
        return fetch(config.urls.token, { credentials: "same-origin" }).then(function (renewed) {
          if (!renewed.ok) { window.location.href = "/login?next=" + encodeURIComponent("/manager"); throw new Error("signed out"); }
          return renewed.json().then(function (data) { token = data.token; return api(method, path, body); });
        });
      }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) { return response; }
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error((data.error && data.error.message) || response.status); }
        return data;
      });
    });
  }

  // -- tabs -----------------------------------------------------------------------------
  document.querySelectorAll("#tabs button").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll("#tabs button").forEach(function (other) { other.classList.toggle("active", other === button); });
      document.querySelectorAll("section.tab").forEach(function (section) { section.hidden = section.id !== button.getAttribute("data-tab"); });
      var tab = button.getAttribute("data-tab");
      if (tab === "reports") { loadReport(); }
      if (tab === "reviews") { loadReviews(); }
      if (tab === "settings") { loadSettings(); }
    });
  });

  // -- live board -----------------------------------------------------------------------
  function renderStats(stats) {
    var lines = $("#lines tbody");
    lines.textContent = "";
    stats.queues.forEach(function (queue) {
      var row = el("tr");
      if (queue.target_wait_s && queue.longest_wait_s > queue.target_wait_s) { row.className = "over"; }
      cell(row, queue.code + " " + (nameOf("queues", queue.code, queue.name) || ""));
      cell(row, queue.waiting, "num");
      cell(row, queue.waiting ? duration(queue.longest_wait_s) : "—", "num");
      cell(row, duration(queue.target_wait_s), "num");
      cell(row, duration(queue.est_wait_s), "num");
      lines.appendChild(row);
    });
    var counters = $("#counters tbody");
    counters.textContent = "";
    stats.counters.forEach(function (counter) {
      var row = el("tr");
      row.setAttribute("data-counter", counter.number);
      cell(row, counter.number + " " + (nameOf("counters", counter.number, counter.name) || ""));
      cell(row, t[counter.state] || counter.state, "state-" + counter.state);
      cell(row, counter.clerk_name || "—");
      cell(row, counter.current || "—");
      var since = counter.state === "paused" && counter.state_since
        ? (Date.now() - Date.parse(counter.state_since)) / 1000 : counter.idle_s;
      cell(row, counter.state === "closed" ? "—" : duration(since === null ? null : Math.max(0, Math.floor(since))), "num");
      counters.appendChild(row);
    });
    (stats.alerts || []).forEach(function (alert) {
      addAlert({ kind: alert.kind, message: alert.message, at: null, key: "live:" + alert.kind + ":" + (alert.queue || alert.message) });
    });
  }

  function addAlert(alert) {
    var key = alert.key || ("sent:" + (alert.id || alert.message + alert.at));
    if (seenAlerts[key]) { return; }
    seenAlerts[key] = true;
    var item = el("li", null, alert.kind);
    item.appendChild(el("span", alert.message));
    if (alert.at) { item.appendChild(el("time", alert.at.replace("T", " ").slice(0, 19))); }
    var list = $("#alerts");
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 100) { list.removeChild(list.lastChild); }
  }

  function connect() {
    if (typeof io === "undefined") { return; }
    socket = io("/manager", { auth: { token: token }, transports: ["websocket"], query: { site: config.site } });
    socket.on("connect", function () { $("#live-state").className = "online"; $("#live-state").textContent = t.online; });
    socket.on("disconnect", function () { $("#live-state").className = "offline"; $("#live-state").textContent = t.offline; });
    socket.on("connect_error", function () {
      fetch(config.urls.token, { credentials: "same-origin" }).then(function (response) {
        if (response.ok) { response.json().then(function (data) { token = data.token; socket.auth.token = token; }); }
      });
    });
    socket.on("snapshot", renderStats);
    socket.on("stats", renderStats);
    socket.on("alert", addAlert);
  }

  function loadBoard() {
    api("GET", "/stats/live").then(renderStats).catch(function () {});
    api("GET", "/alerts?limit=30").then(function (data) {
      data.alerts.slice().reverse().forEach(function (alert) {
        addAlert({ id: alert.id, kind: alert.kind, message: alert.message, at: alert.at });
      });
    }).catch(function () {});
  }

  // -- reports --------------------------------------------------------------------------
  var COLUMNS = ["key", "name", "tickets", "issued", "served", "items", "no_show", "avg_wait_s",
    "p50_wait_s", "p90_wait_s", "max_wait_s", "avg_service_s", "avg_visit_s", "sla_pct", "rating_avg"];
  // Counter and clerk rows hold the steps called there: `issued` counts calls, `tickets` is null.
  var STEP_ONLY_GROUPS = ["counter", "clerk"];
  function columnLabel(column, group) {
    if (column === "issued" && STEP_ONLY_GROUPS.indexOf(group) >= 0) { return t.cols.issued_called; }
    return t.cols[column];
  }
  function reportQuery() {
    var form = $("#report-form");
    var params = new URLSearchParams();
    if (form.from.value) { params.set("from", form.from.value); }
    if (form.to.value) { params.set("to", form.to.value); }
    params.set("group", form.group.value);
    params.set("lang", lang);
    params.set("site", config.site);
    return params.toString();
  }
  function loadReport() {
    $("#report-error").textContent = "";
    api("GET", "/stats?" + reportQuery()).then(renderReport).catch(function (error) { $("#report-error").textContent = error.message; });
    var params = new URLSearchParams(reportQuery());
    params.delete("group"); params.delete("lang");
    api("GET", "/stats/heatmap?" + params.toString()).then(renderHeatmap).catch(function () {});
  }
  function renderReport(report) {
    var form = $("#report-form");
    if (!form.from.value) { form.from.value = report.from; }
    if (!form.to.value) { form.to.value = report.to; }
    var head = $("#report thead"); head.textContent = "";
    var headRow = el("tr");
    COLUMNS.forEach(function (column) { headRow.appendChild(el("th", columnLabel(column, report.group))); });
    head.appendChild(headRow);
    var body = $("#report tbody"); body.textContent = "";
    report.rows.forEach(function (row) {
      var tr = el("tr");
      COLUMNS.forEach(function (column) {
        var value = row[column];
        cell(tr, value === null || value === undefined ? "—" : value, typeof value === "number" ? "num" : "");
      });
      body.appendChild(tr);
    });
    var foot = $("#report tfoot"); foot.textContent = "";
    var total = el("tr");
    COLUMNS.forEach(function (column) {
      var value = column === "name" ? "" : report.total[column];
      cell(total, column === "key" ? t.total : (value === null ? "—" : value), "num");
    });
    foot.appendChild(total);
    if (typeof Chart === "undefined") { return; }
    var labels = report.rows.map(function (row) { return row.name || String(row.key); });
    var data = {
      labels: labels,
      datasets: [
        { label: t.cols.avg_wait_s, data: report.rows.map(function (row) { return row.avg_wait_s; }), backgroundColor: "#3f86c9" },
        { label: t.cols.p90_wait_s, data: report.rows.map(function (row) { return row.p90_wait_s; }), backgroundColor: "#b00020" },
        { label: t.cols.served, data: report.rows.map(function (row) { return row.served; }), type: "line", yAxisID: "count", borderColor: "#2e7d32", backgroundColor: "#2e7d32" }
      ]
    };
    if (chart) { chart.data = data; chart.update(); return; }
    chart = new Chart($("#wait-chart"), {
      type: "bar", data: data,
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: t.s } },
                  count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } }
    });
  }
  function renderHeatmap(heat) {
    var head = $("#heatmap thead"); head.textContent = "";
    var body = $("#heatmap tbody"); body.textContent = "";
    var hours = heat.cells.map(function (c) { return c.hour; });
    if (!hours.length) { return; }
    var first = Math.min.apply(null, hours), last = Math.max.apply(null, hours);
    var top = Math.max.apply(null, heat.cells.map(function (c) { return c.arrivals; }));
    var headRow = el("tr"); headRow.appendChild(el("th"));
    for (var hour = first; hour <= last; hour += 1) { headRow.appendChild(el("th", hour + ":00")); }
    head.appendChild(headRow);
    for (var day = 0; day < 7; day += 1) {
      var row = el("tr"); row.appendChild(el("th", t.weekdays[day]));
      for (var h = first; h <= last; h += 1) {
        var found = heat.cells.filter(function (c) { return c.weekday === day && c.hour === h; })[0];
        var level = found ? Math.min(4, Math.ceil(4 * found.arrivals / top)) : 0;
        var td = cell(row, found ? found.arrivals : "", "heat-" + level);
        if (found) { td.title = t.cols.avg_wait_s + " " + duration(found.avg_wait_s); }
      }
      body.appendChild(row);
    }
  }
  $("#report-form").addEventListener("submit", function (event) { event.preventDefault(); loadReport(); });
  $("#csv").addEventListener("click", function () {
    api("GET", "/stats/export.csv?" + reportQuery()).then(function (response) { return response.blob(); }).then(function (blob) {
      var link = el("a");
      link.href = URL.createObjectURL(blob);
      link.download = "yihao-" + $("#report-form").group.value + ".csv";
      document.body.appendChild(link); link.click(); link.remove();
    }).catch(function (error) { $("#report-error").textContent = error.message; });
  });

  // -- reviews --------------------------------------------------------------------------
  function loadReviews() {
    var state = $("#review-state").value;
    api("GET", "/reviews?rating_max=2" + (state ? "&state=" + state : "")).then(function (data) {
      var body = $("#review-list tbody"); body.textContent = "";
      data.reviews.forEach(function (review) {
        var row = el("tr", null, review.overdue ? "overdue" : "");
        cell(row, review.rated_at.replace("T", " ").slice(0, 16));
        cell(row, review.number);
        cell(row, review.rating, "num");
        cell(row, review.reasons.join("、"));
        cell(row, review.counter);
        cell(row, review.clerk_name || review.clerk || "—");
        cell(row, review.due + (review.overdue ? " (" + t.overdue + ")" : ""), review.overdue ? "over" : "");
        cell(row, t["r_" + review.state] || review.state);
        cell(row, review.assignee || "—");
        cell(row, review.note || "");
        var actions = cell(row, "");
        if (review.state !== "closed") {
          [["assign", t.assign], ["note", t.write_note], ["close", t.close]].forEach(function (pair) {
            var button = el("button", pair[1]); button.type = "button";
            button.addEventListener("click", function () { followUp(review.id, pair[0]); });
            actions.appendChild(button);
          });
        }
        body.appendChild(row);
      });
    }).catch(function (error) { $("#review-error").textContent = error.message; });
  }
  function followUp(id, action) {
    var body = {};
    if (action === "assign") { var who = window.prompt(t.ask_assignee); if (!who) { return; } body.assignee = who; }
    else { var note = window.prompt(t.ask_note); if (!note) { return; } body.note = note; }
    api("POST", "/reviews/" + id + "/" + action, body).then(loadReviews).catch(function (error) { $("#review-error").textContent = error.message; });
  }
  $("#review-state").addEventListener("change", loadReviews);

  // -- settings (admin) -----------------------------------------------------------------
  function loadSettings() {
    api("GET", "/settings").then(renderSettings).catch(function (error) { $("#settings-error").textContent = error.message; });
  }
  function change(path, body) {
    $("#settings-error").textContent = "";
    api("POST", path, body).then(renderSettings).catch(function (error) { $("#settings-error").textContent = error.message; });
  }
  function renderSettings(data) {
    var admin = user && user.role === "admin";
    $("#notice-form").notice.value = data.notice;
    var services = $("#service-settings tbody"); services.textContent = "";
    data.services.forEach(function (service) {
      var row = el("tr");
      cell(row, nameOf("services", service.code, service.name));
      var target = el("input", null, "small"); target.type = "number"; target.min = "1"; target.step = "any"; target.value = service.target_wait_min;
      var quota = el("input", null, "small"); quota.type = "number"; quota.min = "0"; quota.value = service.daily_quota || 0;
      cell(row, "").appendChild(target); cell(row, "").appendChild(quota);
      var save = el("button", t.save); save.type = "button"; save.disabled = !admin;
      save.addEventListener("click", function () {
        change("/settings/services/" + service.code, { target_wait_min: Number(target.value), daily_quota: Number(quota.value) });
      });
      cell(row, "").appendChild(save);
      services.appendChild(row);
    });
    var counters = $("#counter-settings tbody"); counters.textContent = "";
    data.counters.forEach(function (counter) {
      var row = el("tr");
      cell(row, counter.number + " " + nameOf("counters", counter.number, counter.name));
      var lines = el("input"); lines.value = counter.queues.join(",");
      cell(row, "").appendChild(lines);
      var strategy = el("select");
      ["fifo", "ordered"].forEach(function (value) { var option = el("option", value); option.value = value; option.selected = value === counter.strategy; strategy.appendChild(option); });
      cell(row, "").appendChild(strategy);
      cell(row, t[counter.state] || counter.state, "state-" + counter.state);
      var actions = cell(row, "");
      var save = el("button", t.save); save.type = "button"; save.disabled = !admin;
      save.addEventListener("click", function () {
        change("/settings/counters/" + counter.number, { queues: lines.value.split(/[,，\s]+/).filter(Boolean), strategy: strategy.value });
      });
      actions.appendChild(save);
      if (counter.state !== "closed") {
        var toggle = el("button", counter.state === "paused" ? t.resume : t.pause); toggle.type = "button"; toggle.disabled = !admin;
        toggle.addEventListener("click", function () { change("/settings/counters/" + counter.number, { state: counter.state === "paused" ? "open" : "paused" }); });
        actions.appendChild(toggle);
        var close = el("button", t.closed); close.type = "button"; close.disabled = !admin;
        close.addEventListener("click", function () { change("/settings/counters/" + counter.number, { state: "closed" }); });
        actions.appendChild(close);
      }
      counters.appendChild(row);
    });
  }
  $("#notice-form").addEventListener("submit", function (event) {
    event.preventDefault();
    change("/settings/notice", { notice: event.target.notice.value });
  });

  // -- start ----------------------------------------------------------------------------
  function start() {
    $("#app").hidden = false;
    $("#user-name").textContent = user ? user.name : "";
    $("#settings-tab").hidden = !(user && user.role === "admin");
    loadBoard();
    connect();
    // Waits grow with no event to push them: refresh the board's clock-driven figures too.
    window.setInterval(function () { api("GET", "/stats/live").then(renderStats).catch(function () {}); }, 10000);
    document.body.setAttribute("data-ready", "1");
  }
  start();
})();
