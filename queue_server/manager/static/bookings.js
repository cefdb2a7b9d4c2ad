/* The managers' live board: today's bookings (预约) by slot, who came and who did not.
   Kept apart from manager.js: it reads the same #manager-config and calls the JSON API. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("manager-config").textContent);
  var t = config.strings;
  var token = config.token;
  var REFRESH_MS = 30000;
  var services = {};
  (config.services || []).forEach(function (service) { services[service.code] = service.name; });

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function words(key, vars) {
    return (t[key] || key).replace(/\{(\w+)\}/g, function (match, name) { return String(vars[name]); });
  }
  function get(path) {
    var headers = { Authorization: "Bearer " + token, "Accept-Language": config.lang };
    return fetch(config.urls.api + path, { headers: headers }).then(function (response) {
      if (response.status === 401) {
        return fetch(config.urls.token, { credentials: "same-origin" }).then(function (renewed) {
          if (!renewed.ok) { throw new Error("signed out"); }
          return renewed.json().then(function (data) { token = data.token; return get(path); });
        });
      }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  function render(appointments) {
    var body = document.querySelector("#bookings tbody");
    body.textContent = "";
    document.getElementById("bookings-none").hidden = appointments.length > 0;
    document.getElementById("bookings").hidden = appointments.length === 0;
    var bySlot = {};
    var order = [];
    appointments.forEach(function (item) {
      var slot = item.start + "–" + item.end;
      if (!bySlot[slot]) { bySlot[slot] = []; order.push(slot); }
      bySlot[slot].push(item);
    });
    order.forEach(function (slot) {
      var items = bySlot[slot];
      var shown = items.filter(function (i) { return i.state === "checked_in" || i.state === "late"; }).length;
      var missed = items.filter(function (i) { return i.state === "no_show"; }).length;
      var head = el("tr", null, "booking-slot");
      var cell = el("th", slot + "  " + words("booking_shown", { shown: shown, missed: missed, total: items.length }));
      cell.colSpan = 5;
      head.appendChild(cell);
      body.appendChild(head);
      items.forEach(function (item) {
        var row = el("tr", null, "booking booking-" + item.state);
        row.setAttribute("data-code", item.code);
        [slot, services[item.service] || item.service, item.code, item.visitor_id_masked,
         t["booking_state." + item.state] || item.state].forEach(function (text) {
          row.appendChild(el("td", text));
        });
        body.appendChild(row);
      });
    });
  }

  function load() {
    get("/appointments?site=" + encodeURIComponent(config.site)).then(function (data) {
      render(data.appointments);
    }).catch(function () {});
  }
  load();
  setInterval(load, REFRESH_MS);
})();
