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
  // Report waits and times as 分:秒 (the headers say so): 125.4 s -> "2:05".
  function mmss(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var whole = Math.round(seconds);
    var rest = whole % 60;
    return Math.floor(whole / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }
  // Days, hours and minutes (受理 → 出件 spans days): 93780 s -> "1天 2:03".
  function dayspan(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
    return (days ? words("days", { days: days }) + " " : "") + hours + ":" + (rest < 10 ? "0" : "") + rest;
  }
  function words(key, vars) {
    return (t[key] || key).replace(/\{(\w+)\}/g, function (match, name) { return String(vars[name]); });
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

  // The page's other scripts (whatif.js, bookings.js, loaded after this one) call the API
  // and word things through these: one token for the page, renewed once for all of them.
  window.yihaoManager = { api: api, el: el, words: words, duration: duration };

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
  // Clock-driven figures (a visitor's time at the counter, an idle or paused time) keep
  // counting between pushes: each such cell holds its seconds and when they were true.
  function ticking(row, seconds, className) {
    var td = cell(row, duration(seconds), className);
    if (seconds !== null && seconds !== undefined) {
      td.setAttribute("data-seconds", String(seconds));
      td.setAttribute("data-at", String(Date.now()));
    }
    return td;
  }
  function tick() {
    document.querySelectorAll("td[data-seconds]").forEach(function (td) {
      var seconds = Number(td.getAttribute("data-seconds")) + (Date.now() - Number(td.getAttribute("data-at"))) / 1000;
      td.textContent = duration(Math.floor(seconds));
    });
  }
  function sparkline(counts, first, hour) {
    // Arrivals per hour, an inline SVG (no chart library, no CDN): the hours from `first`
    // (the day's first arrival in the hall, the same for every line) to now.
    var svgNs = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(svgNs, "svg");
    var width = 120, height = 22;
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("class", "spark");
    var shown = counts.slice(first, hour + 1);
    var top = Math.max.apply(null, shown.concat([1]));
    // At least a working day's ten slots wide, so the first hour of the morning reads as
    // one hour, not as a full bar.
    var step = width / Math.max(shown.length, 10);
    shown.forEach(function (count, index) {
      var bar = document.createElementNS(svgNs, "rect");
      var barHeight = count ? Math.max(2, Math.round((height - 2) * count / top)) : 0;
      bar.setAttribute("x", String(index * step + 1));
      bar.setAttribute("y", String(height - barHeight));
      bar.setAttribute("width", String(Math.max(1, step - 2)));
      bar.setAttribute("height", String(barHeight));
      var title = document.createElementNS(svgNs, "title");
      title.textContent = (first + index) + ":00 " + count;
      bar.appendChild(title);
      svg.appendChild(bar);
    });
    svg.setAttribute("data-hours", String(shown.length));
    svg.setAttribute("data-total", String(shown.reduce(function (a, b) { return a + b; }, 0)));
    return svg;
  }
  function renderStats(stats) {
    var today = stats.today || {};
    var waitingNow = stats.queues.reduce(function (sum, queue) { return sum + queue.waiting; }, 0);
    $("#kpi-tickets").textContent = today.tickets === undefined ? "—" : today.tickets;
    $("#kpi-served").textContent = today.served === undefined ? "—" : today.served;
    $("#kpi-waiting").textContent = waitingNow;
    $("#kpi-p50").textContent = duration(today.p50_wait_s);
    $("#kpi-p90").textContent = duration(today.p90_wait_s);
    var hourNow = today.hour === undefined ? new Date().getHours() : today.hour;
    var firstHour = hourNow;
    stats.queues.forEach(function (queue) {
      (queue.by_hour || []).forEach(function (count, hour) {
        if (count && hour < firstHour) { firstHour = hour; }
      });
    });
    var lines = $("#lines tbody");
    lines.textContent = "";
    stats.queues.forEach(function (queue) {
      var row = el("tr");
      row.setAttribute("data-queue", queue.code);
      if (queue.over_target) { row.className = "over"; }
      cell(row, queue.code + " " + (nameOf("queues", queue.code, queue.name) || ""), "name");
      cell(row, queue.waiting, "num");
      cell(row, queue.waiting ? duration(queue.longest_wait_s) : "—", "num");
      cell(row, queue.over_target || "", "num over-count");
      cell(row, duration(queue.target_wait_s), "num");
      cell(row, duration(queue.est_wait_s), "num");
      cell(row, queue.tickets, "num");
      cell(row, queue.served, "num");
      cell(row, "", "spark-cell").appendChild(sparkline(queue.by_hour || [], firstHour, hourNow));
      lines.appendChild(row);
    });
    var counters = $("#counters tbody");
    counters.textContent = "";
    stats.counters.forEach(function (counter) {
      var row = el("tr");
      row.setAttribute("data-counter", counter.number);
      cell(row, counter.number + " " + (nameOf("counters", counter.number, counter.name) || ""), "name");
      cell(row, t[counter.state] || counter.state, "state-" + counter.state);
      cell(row, counter.clerk_name || "—");
      cell(row, counter.current || "—");
      if (counter.current) { ticking(row, counter.service_s, "num service"); } else { cell(row, "—", "num service"); }
      var since = counter.state === "paused" && counter.state_since
        ? Math.max(0, Math.floor((Date.now() - Date.parse(counter.state_since)) / 1000)) : counter.idle_s;
      if (counter.state === "closed" || since === null || since === undefined) { cell(row, "—", "num idle"); }
      else { ticking(row, since, "num idle"); }
      counters.appendChild(row);
    });
    var clerks = $("#clerks tbody");
    clerks.textContent = "";
    (stats.clerks || []).forEach(function (clerk) {
      var row = el("tr");
      row.setAttribute("data-clerk", clerk.username);
      cell(row, clerk.clerk_no ? words("name_with", { name: clerk.name, detail: clerk.clerk_no }) : clerk.name);
      cell(row, clerk.served, "num");
      cell(row, clerk.rating_avg === null ? t.no_ratings : clerk.rating_avg.toFixed(2) + " (" + clerk.ratings + ")", "num");
      clerks.appendChild(row);
    });
    // The lines' own alerts now: replaced on every push (a line back within target drops out).
    document.querySelectorAll("#alerts li.live").forEach(function (item) { item.remove(); });
    (stats.alerts || []).forEach(function (alert) {
      var item = el("li", null, alert.kind + " live");
      item.setAttribute("data-queue", alert.queue || "");
      item.appendChild(el("span", alertText(alert)));
      $("#alerts").insertBefore(item, $("#alerts").firstChild);
    });
    $("#alerts-none").hidden = $("#alerts").children.length > 0;
  }

  // An alert in the page's language from the figures it carries, else its stored message
  // (in Chinese, with what the hall was doing when it was raised).
  function alertText(alert) {
    var detail = alert.detail || alert;
    var service = detail.service ? nameOf("services", detail.service, serviceNames[detail.service] || detail.service) : "";
    var line = detail.queue ? nameOf("queues", detail.queue, queueNames[detail.queue] || detail.queue) : "";
    if (alert.kind !== "wait_target" && config.lang !== "en" && alert.message) { return alert.message; }
    if (alert.kind === "calendar" && detail.year !== undefined && detail.day !== undefined) {
      return words("alert_calendar", { year: detail.year, day: detail.day });
    }
    if (alert.kind === "counter_paused" && detail.counter !== undefined && detail.paused_s !== undefined) {
      return words(detail.clerk_name ? "alert_paused_clerk" : "alert_paused",
        { counter: detail.counter, clerk: detail.clerk_name, paused: duration(detail.paused_s) });
    }
    if (alert.kind === "printer" && detail.kiosk !== undefined && (detail.ticket || detail.number)) {
      return words(detail.ticket ? "alert_print_abandoned" : "alert_printer",
        { kiosk: detail.kiosk, number: detail.ticket || detail.number, error: detail.error || "—" });
    }
    if (alert.kind === "message_queue") { return t.alert_message_queue; }
    if (alert.kind !== "wait_target" || detail.waited_s === undefined || detail.target_wait_s === undefined) {
      return alert.message;
    }
    var vars = { line: line, service: service, count: detail.count, number: detail.number,
      waited: duration(detail.waited_s), target: duration(detail.target_wait_s),
      over: duration(Math.max(0, detail.waited_s - detail.target_wait_s)) };
    return words(detail.number ? "alert_ticket" : "alert_line", vars);
  }
  var serviceNames = {}, queueNames = {};
  (config.services || []).forEach(function (service) { serviceNames[service.code] = service.name; });
  (config.queues || []).forEach(function (queue) { queueNames[queue.code] = queue.name; });

  function addAlert(alert) {
    var key = alert.key || ("sent:" + (alert.id || alert.message + alert.at));
    if (seenAlerts[key]) { return; }
    seenAlerts[key] = true;
    var item = el("li", null, alert.kind);
    item.appendChild(el("span", alertText(alert)));
    if (alert.at) { item.appendChild(el("time", alert.at.replace("T", " ").slice(0, 19))); }
    var list = $("#alerts");
    var firstSent = list.querySelector("li:not(.live)");
    list.insertBefore(item, firstSent);
    while (list.children.length > 100) { list.removeChild(list.lastChild); }
    $("#alerts-none").hidden = true;
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
        addAlert({ id: alert.id, kind: alert.kind, message: alert.message, at: alert.at, detail: alert.detail });
      });
    }).catch(function () {});
  }

  // -- reports --------------------------------------------------------------------------
  // The first column is the row's name under the group's word (业务, 队列 …), never a code;
  // waits and times are 分:秒 with the unit in the header.
  var COLUMNS = ["name", "tickets", "issued", "served", "items", "no_show", "avg_wait_s",
    "p50_wait_s", "p90_wait_s", "max_wait_s", "avg_service_s", "avg_visit_s", "sla_pct", "rating_avg"];
  var TIMES = ["avg_wait_s", "p50_wait_s", "p90_wait_s", "max_wait_s", "avg_service_s", "avg_visit_s"];
  // Counter and clerk rows hold the steps called there: `issued` counts calls, `tickets` is null.
  var STEP_ONLY_GROUPS = ["counter", "clerk"];
  function columnLabel(column, group) {
    if (column === "name") { return t["gword." + group] || t.cols.key; }
    if (column === "issued" && STEP_ONLY_GROUPS.indexOf(group) >= 0) { return t.cols.issued_called; }
    return t.cols[column];
  }
  function rowName(row, group) {
    if (group === "day") { return row.key + " " + row.name; }
    if (group === "service") { return nameOf("services", row.key, row.name); }
    if (group === "queue") { return row.key + " " + nameOf("queues", row.key, row.name); }
    return row.name || String(row.key);
  }
  function shown(column, value) {
    if (value === null || value === undefined) { return "—"; }
    if (TIMES.indexOf(column) >= 0) { return mmss(value); }
    return value;
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
    params.delete("group");
    api("GET", "/stats/heatmap?" + params.toString()).then(renderHeatmap).catch(function () {});
    var group = $("#report-form").group.value === "day" ? "day" : "service";
    params.set("group", group);
    api("GET", "/stats/appointments?" + params.toString()).then(renderAppointments).catch(function (error) { $("#report-error").textContent = error.message; });
    params.delete("group");
    api("GET", "/stats/visits?" + params.toString()).then(renderVisits).catch(function (error) { $("#report-error").textContent = error.message; });
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
      tr.setAttribute("data-key", String(row.key));
      COLUMNS.forEach(function (column) {
        if (column === "name") { cell(tr, rowName(row, report.group), "name"); return; }
        var value = row[column];
        cell(tr, shown(column, value), typeof value === "number" ? "num" : "");
      });
      body.appendChild(tr);
    });
    var foot = $("#report tfoot"); foot.textContent = "";
    var total = el("tr");
    COLUMNS.forEach(function (column) {
      cell(total, column === "name" ? t.total : shown(column, report.total[column]), column === "name" ? "name" : "num");
    });
    foot.appendChild(total);
    if (typeof Chart === "undefined") { return; }
    var labels = report.rows.map(function (row) { return rowName(row, report.group); });
    var inMinutes = function (seconds) { return seconds === null ? null : Math.round(seconds / 6) / 10; };
    var data = {
      labels: labels,
      datasets: [
        { label: t.cols.avg_wait_s.replace(/\(.*\)/, "") + " (" + t.wait_axis + ")", data: report.rows.map(function (row) { return inMinutes(row.avg_wait_s); }), backgroundColor: "#3f86c9" },
        { label: t.cols.p90_wait_s.replace(/\(.*\)/, "") + " (" + t.wait_axis + ")", data: report.rows.map(function (row) { return inMinutes(row.p90_wait_s); }), backgroundColor: "#b00020" },
        { label: t.cols.served, data: report.rows.map(function (row) { return row.served; }), type: "line", yAxisID: "count", borderColor: "#2e7d32", backgroundColor: "#2e7d32" }
      ]
    };
    if (chart) { chart.data = data; chart.update(); return; }
    chart = new Chart($("#wait-chart"), {
      type: "bar", data: data,
      options: { responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: t.wait_axis } },
                  count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                           title: { display: true, text: t.cols.served } } } }
    });
  }
  function renderHeatmap(heat) {
    // Every weekday × every hour of the day: an hour without arrivals is an empty cell.
    var head = $("#heatmap thead"); head.textContent = "";
    var body = $("#heatmap tbody"); body.textContent = "";
    var cells = {};
    heat.cells.forEach(function (c) { cells[c.weekday + ":" + c.hour] = c; });
    var top = Math.max.apply(null, heat.cells.map(function (c) { return c.arrivals; }).concat([1]));
    var headRow = el("tr"); headRow.appendChild(el("th"));
    for (var hour = 0; hour < 24; hour += 1) { headRow.appendChild(el("th", String(hour))); }
    head.appendChild(headRow);
    for (var day = 0; day < 7; day += 1) {
      var row = el("tr"); row.appendChild(el("th", t.weekdays[day]));
      for (var h = 0; h < 24; h += 1) {
        var found = cells[day + ":" + h];
        var level = found && found.arrivals ? Math.min(4, Math.ceil(4 * found.arrivals / top)) : 0;
        var td = cell(row, found && found.arrivals ? found.arrivals : "", "heat-" + level);
        td.setAttribute("data-hour", String(h));
        if (found) {
          td.title = words("heat_title", { weekday: t.weekdays[day], hour: h, arrivals: found.arrivals, wait: mmss(found.avg_wait_s) });
        }
      }
      body.appendChild(row);
    }
  }
  function renderAppointments(report) {
    $("#ap-key").textContent = t["gword." + report.group];
    var body = $("#appointments-report tbody"); body.textContent = "";
    var fill = function (tr, row) {
      ["tickets", "booked", "checked_in", "late", "no_show", "cancelled", "share_pct", "on_time_pct"].forEach(function (column) {
        cell(tr, row[column] === null || row[column] === undefined ? "—" : row[column], "num");
      });
    };
    report.rows.forEach(function (row) {
      var tr = el("tr");
      tr.setAttribute("data-key", String(row.key));
      cell(tr, report.group === "day" ? row.key + " " + row.name : nameOf("services", row.key, row.name), "name");
      fill(tr, row);
      body.appendChild(tr);
    });
    var foot = $("#appointments-report tfoot"); foot.textContent = "";
    var total = el("tr"); cell(total, t.total, "name"); fill(total, report.total); foot.appendChild(total);
  }
  function renderVisits(report) {
    var body = $("#visits-report tbody"); body.textContent = "";
    report.rows.forEach(function (row) {
      var tr = el("tr");
      cell(tr, row.number);
      cell(tr, row.date);
      cell(tr, nameOf("services", row.service, serviceNames[row.service] || row.service));
      cell(tr, row.pickup_on);
      cell(tr, row.pickup ? row.pickup.number + " (" + row.pickup.date + ")" : "—");
      cell(tr, row.pickup && row.pickup.ended_at ? row.pickup.ended_at.replace("T", " ").slice(0, 16) : "—");
      cell(tr, dayspan(row.total_s), "num");
      body.appendChild(tr);
    });
    $("#visits-summary").textContent = report.total.visits
      ? words("v_summary", { visits: report.total.visits, picked: report.total.picked_up, average: dayspan(report.total.avg_total_s) })
      : t.v_none;
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
  // Follow-up in the row itself: a picker of the site's staff (clerks first) to assign, a
  // note box, and the row's own error line next to them (no prompt(), no page-bottom error).
  var ROLE_ORDER = { clerk: 0, manager: 1, admin: 2 };
  function staffPicker(current) {
    var select = el("select", null, "assignee");
    var none = el("option", t.pick_assignee); none.value = ""; select.appendChild(none);
    (config.staff || []).slice().sort(function (a, b) {
      return (ROLE_ORDER[a.role] - ROLE_ORDER[b.role]) || (a.username < b.username ? -1 : 1);
    }).forEach(function (person) {
      var option = el("option", words("name_with", { name: person.name, detail: t["role." + person.role] || person.role }));
      option.value = person.username;
      option.selected = person.username === current;
      select.appendChild(option);
    });
    return select;
  }
  var reasonWords = config.reason_words || {};
  function ratingWords(rating) { return t["rating_word." + rating] || String(rating); }
  function loadReviews() {
    var state = $("#review-state").value;
    $("#review-error").textContent = "";
    api("GET", "/reviews?rating_max=2" + (state ? "&state=" + state : "")).then(function (data) {
      var body = $("#review-list tbody"); body.textContent = "";
      data.reviews.forEach(function (review) {
        var row = el("tr", null, review.overdue ? "overdue" : "");
        row.setAttribute("data-review", String(review.id));
        cell(row, review.rated_at.replace("T", " ").slice(0, 16));
        cell(row, review.number);
        cell(row, ratingWords(review.rating), "rating rating-" + review.rating).title = String(review.rating);
        cell(row, review.reasons.map(function (reason) {
          return Object.prototype.hasOwnProperty.call(reasonWords, reason) ? reasonWords[reason] : reason;
        }).join(t.reason_separator || "、"));
        cell(row, review.counter);
        cell(row, review.clerk_name || review.clerk || "—");
        cell(row, review.due + (review.overdue ? " (" + t.overdue + ")" : ""), review.overdue ? "over" : "");
        cell(row, t["r_" + review.state] || review.state);
        cell(row, review.assignee ? staffName(review.assignee) : "—");
        cell(row, review.note || "");
        var actions = cell(row, "", "actions");
        if (review.state !== "closed") {
          var picker = staffPicker(review.assignee);
          var assign = el("button", t.assign); assign.type = "button"; assign.className = "assign";
          var note = el("input", null, "note"); note.type = "text"; note.placeholder = t.note_placeholder; note.maxLength = 500;
          var write = el("button", t.write_note); write.type = "button"; write.className = "write-note";
          var close = el("button", t.close); close.type = "button"; close.className = "close";
          var error = el("span", "", "error row-error"); error.setAttribute("role", "alert");
          assign.addEventListener("click", function () {
            if (!picker.value) { error.textContent = t.need_assignee; picker.focus(); return; }
            followUp(review.id, "assign", { assignee: picker.value }, error);
          });
          write.addEventListener("click", function () {
            if (!note.value.trim()) { error.textContent = t.need_note; note.focus(); return; }
            followUp(review.id, "note", { note: note.value.trim() }, error);
          });
          close.addEventListener("click", function () {
            followUp(review.id, "close", note.value.trim() ? { note: note.value.trim() } : {}, error);
          });
          [picker, assign, note, write, close, error].forEach(function (node) { actions.appendChild(node); });
        }
        body.appendChild(row);
      });
    }).catch(function (error) { $("#review-error").textContent = error.message; });
  }
  function staffName(username) {
    var found = (config.staff || []).filter(function (person) { return person.username === username; })[0];
    return found ? found.name : username;
  }
  function followUp(id, action, body, errorNode) {
    errorNode.textContent = "";
    api("POST", "/reviews/" + id + "/" + action, body).then(loadReviews).catch(function (error) { errorNode.textContent = error.message; });
  }
  $("#review-state").addEventListener("change", loadReviews);

  // -- settings (admin) -----------------------------------------------------------------
  function loadSettings() {
    api("GET", "/settings").then(renderSettings).catch(function (error) { $("#settings-error").textContent = error.message; });
  }
  // A change's error shows next to the control that made it (the row's error line).
  function change(path, body, errorNode) {
    errorNode.textContent = "";
    errorNode.classList.remove("saved");
    api("POST", path, body).then(function (data) {
      renderSettings(data);
    }).catch(function (error) { errorNode.textContent = error.message; });
  }
  function rowError(row) {
    var error = el("span", "", "error row-error"); error.setAttribute("role", "alert");
    return error;
  }
  function renderSettings(data) {
    var admin = user && user.role === "admin";
    $("#notice-form").notice.value = data.notice;
    var services = $("#service-settings tbody"); services.textContent = "";
    data.services.forEach(function (service) {
      var row = el("tr");
      row.setAttribute("data-service", service.code);
      cell(row, nameOf("services", service.code, service.name));
      var target = el("input", null, "small target"); target.type = "number"; target.step = "any"; target.value = service.target_wait_min;
      var quota = el("input", null, "small quota"); quota.type = "number"; quota.value = service.daily_quota || 0;
      cell(row, "").appendChild(target); cell(row, "").appendChild(quota);
      var save = el("button", t.save); save.type = "button"; save.disabled = !admin;
      var error = rowError(row);
      save.addEventListener("click", function () {
        change("/settings/services/" + service.code, { target_wait_min: Number(target.value), daily_quota: Number(quota.value) }, error);
      });
      var actions = cell(row, "", "actions"); actions.appendChild(save); actions.appendChild(error);
      services.appendChild(row);
    });
    var counters = $("#counter-settings tbody"); counters.textContent = "";
    data.counters.forEach(function (counter) {
      var row = el("tr");
      row.setAttribute("data-counter", String(counter.number));
      cell(row, counter.number + " " + nameOf("counters", counter.number, counter.name));
      var lines = el("input", null, "lines"); lines.value = counter.queues.join(",");
      cell(row, "").appendChild(lines);
      var strategy = el("select", null, "strategy");
      ["fifo", "ordered"].forEach(function (value) {
        var option = el("option", t["strategy." + value] || value); option.value = value; option.selected = value === counter.strategy; strategy.appendChild(option);
      });
      cell(row, "").appendChild(strategy);
      cell(row, t[counter.state] || counter.state, "state-" + counter.state);
      var actions = cell(row, "", "actions");
      var error = rowError(row);
      var save = el("button", t.save); save.type = "button"; save.disabled = !admin;
      save.addEventListener("click", function () {
        change("/settings/counters/" + counter.number, { queues: lines.value.split(/[,，\s]+/).filter(Boolean), strategy: strategy.value }, error);
      });
      actions.appendChild(save);
      if (counter.state !== "closed") {
        var toggle = el("button", counter.state === "paused" ? t.resume : t.pause); toggle.type = "button"; toggle.disabled = !admin;
        toggle.addEventListener("click", function () { change("/settings/counters/" + counter.number, { state: counter.state === "paused" ? "open" : "paused" }, error); });
        actions.appendChild(toggle);
        var close = el("button", t.close_counter); close.type = "button"; close.disabled = !admin;
        close.addEventListener("click", function () { change("/settings/counters/" + counter.number, { state: "closed" }, error); });
        actions.appendChild(close);
      }
      actions.appendChild(error);
      counters.appendChild(row);
    });
  }
  $("#notice-form").addEventListener("submit", function (event) {
    event.preventDefault();
    change("/settings/notice", { notice: event.target.notice.value }, $("#notice-error"));
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
    window.setInterval(tick, 1000);
    document.body.setAttribute("data-ready", "1");
  }
  start();
})();
