/* The managers' live board: today's bookings (预约) by slot, who came and who did not.
   Kept apart from manager.js: it reads the same #manager-config and calls the JSON API
   through manager.js's helpers (window.yihaoManager). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("manager-config").textContent);
  var t = config.strings;
  var shared = window.yihaoManager;  // manager.js: the page's API calls and wording
  var el = shared.el, words = shared.words;
  var REFRESH_MS = 30000;
  var services = {};
  (config.services || []).forEach(function (service) { services[service.code] = service.name; });

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
    shared.api("GET", "/appointments?site=" + encodeURIComponent(config.site)).then(function (data) {
      render(data.appointments);
    }).catch(function () {});
  }
  load();
  setInterval(load, REFRESH_MS);
})();
