/* The managers' what-if tab (SPEC §10): a past day replayed as it was and with changes,
   side by side. POST /api/v1/whatif starts it off the request path; the page polls
   GET /api/v1/whatif/<id> for its progress, then shows both days: per line p50/p90 wait and
   the within-target share, and a chart of the people waiting by hour. Strings come from
   #manager-config like the rest of the page (manager.js). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("manager-config").textContent);
  var t = config.strings;
  var shared = window.yihaoManager;  // manager.js: the page's API calls and wording
  var api = shared.api, words = shared.words, duration = shared.duration;
  var form = document.getElementById("whatif-form");
  if (!form) { return; }
  var status = document.getElementById("whatif-status");
  var error = document.getElementById("whatif-error");
  var chart = null;
  var polling = null;

  function lineName(code) {
    var line = (config.queues || []).filter(function (queue) { return queue.code === code; })[0];
    return line ? code + " " + line.name : code;
  }

  /* "9=6, 10=8" → {"9": 6, "10": 8} */
  function byHour(text) {
    var result = {};
    text.split(/[,，;；\s]+/).filter(Boolean).forEach(function (part) {
      var match = /^(\d{1,2})\s*[=:：]\s*(\d{1,2})$/.exec(part);
      if (!match) { throw new Error(t.wi_bad_by_hour); }
      result[match[1]] = Number(match[2]);
    });
    return result;
  }
  /* "7: B,A ordered; 8: C" → [{number: 7, queues: ["B", "A"], strategy: "ordered"}, …] */
  function counterChanges(text) {
    return text.split(/[;；]/).map(function (part) { return part.trim(); }).filter(Boolean).map(function (part) {
      var match = /^(\d+)\s*[:：]\s*([A-Za-z,，\s]*?)\s*(fifo|ordered)?$/.exec(part);
      if (!match) { throw new Error(t.wi_bad_change); }
      var change = { number: Number(match[1]) };
      var queues = match[2].split(/[,，\s]+/).filter(Boolean).map(function (code) { return code.toUpperCase(); });
      if (queues.length) { change.queues = queues; }
      if (match[3]) { change.strategy = match[3]; }
      return change;
    });
  }

  function request() {
    var data = new FormData(form);
    var body = { date: data.get("date") };
    if (data.get("counters") !== "") { body.counters = Number(data.get("counters")); }
    if (String(data.get("counters_by_hour")).trim()) { body.counters_by_hour = byHour(String(data.get("counters_by_hour"))); }
    if (data.get("strategy")) { body.strategy = data.get("strategy"); }
    if (data.get("threshold") !== "") { body.threshold = Number(data.get("threshold")); }
    if (String(data.get("counter_changes")).trim()) { body.counter_changes = counterChanges(String(data.get("counter_changes"))); }
    return body;
  }

  function fillDay(node, day) {
    node.querySelector(".whatif-summary").textContent =
      t.wi_visitors + " " + day.visitors + " · " + t.wi_within + " " + (day.within_target_pct === null ? "—" : day.within_target_pct);
    var body = node.querySelector("tbody");
    body.textContent = "";
    day.lines.forEach(function (line) {
      var row = document.createElement("tr");
      row.setAttribute("data-line", line.line);
      [lineName(line.line), line.visitors, duration(line.p50_wait_s), duration(line.p90_wait_s),
       line.within_target_pct === null ? "—" : line.within_target_pct].forEach(function (text) {
        row.appendChild(shared.el("td", text));
      });
      body.appendChild(row);
    });
  }

  function drawChart(result) {
    var hours = {};
    result.original.waiting_by_hour.concat(result.changed.waiting_by_hour).forEach(function (item) { hours[item.hour] = true; });
    var labels = Object.keys(hours).map(Number).sort(function (a, b) { return a - b; });
    function series(day) {
      var byHourValue = {};
      day.waiting_by_hour.forEach(function (item) { byHourValue[item.hour] = item.waiting; });
      return labels.map(function (hour) { return byHourValue[hour] || 0; });
    }
    var data = {
      labels: labels.map(function (hour) { return hour + t.wi_hour; }),
      datasets: [
        { label: t.wi_original, data: series(result.original), borderColor: "#888", backgroundColor: "rgba(136,136,136,0.2)" },
        { label: t.wi_changed, data: series(result.changed), borderColor: "#c0392b", backgroundColor: "rgba(192,57,43,0.2)" }
      ]
    };
    if (typeof Chart === "undefined") { return; }
    if (chart) { chart.data = data; chart.update(); return; }
    chart = new Chart(document.getElementById("whatif-chart"), { type: "line", data: data, options: { animation: false, responsive: true, maintainAspectRatio: false } });
  }

  function show(run) {
    if (run.state === "running") {
      status.textContent = words("wi_running", { percent: Math.round(run.progress * 100) });
      return false;
    }
    if (run.state === "failed") {
      status.textContent = "";
      error.textContent = t.wi_failed;
      return true;
    }
    status.textContent = "";
    fillDay(document.getElementById("whatif-original"), run.result.original);
    fillDay(document.getElementById("whatif-changed"), run.result.changed);
    document.getElementById("whatif-result").hidden = false;
    drawChart(run.result);
    return true;
  }

  function poll(id) {
    api("GET", "/whatif/" + encodeURIComponent(id)).then(function (data) {
      if (!show(data.run)) { polling = window.setTimeout(function () { poll(id); }, 300); }
    }).catch(function (failure) { status.textContent = ""; error.textContent = failure.message; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    if (polling) { window.clearTimeout(polling); polling = null; }
    var body;
    try { body = request(); } catch (failure) { error.textContent = failure.message; return; }
    status.textContent = words("wi_running", { percent: 0 });
    api("POST", "/whatif", body).then(function (data) {
      if (!show(data.run)) { poll(data.run.id); }
    }).catch(function (failure) { status.textContent = ""; error.textContent = failure.message; });
  });

  // Yesterday in the hall by default (the page's config): the latest day that can be replayed.
  form.elements.date.value = config.yesterday;
}());
