/* The kiosk (取号机): party → business → headcount (enterprises) → identity (optional) →
 * green channel → ticket. Talks only to the public API. Identity checks mirror
 * queue_server/domain/identity.py; the server's 400 message is always shown as well. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kiosk-config").textContent);
  var t = config.strings;
  var API = "/api/v1";
  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var ID_CHECK = "10X98765432";
  var CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

  var state = {};
  var history = [];
  var idleTimer = null;
  var scanBuffer = "";

  function $(id) { return document.getElementById(id); }

  /* A string of the page's table; one with a plural is {one, other}, chosen by values.n. */
  function format(text, values) {
    if (typeof text === "object") { text = values.n === 1 ? text.one : text.other; }
    return text.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function reset() {
    state = { party: null, service: null, headcount: 1, kind: "visitor_id", visitorId: null,
              phone: null, ticket: null, request: null };
    history = [];
    ["headcount", "identity", "lookup-number", "lookup-identity", "checkin-code"].forEach(function (id) {
      $(id).value = "";
    });
    ["headcount-error", "identity-error", "lookup-error", "checkin-error"].forEach(function (id) {
      $(id).textContent = "";
    });
    show("start", false);
  }

  function show(name, remember) {
    var current = document.querySelector(".screen.active");
    if (remember !== false && current && current.id !== "screen-" + name) {
      history.push(current.id.replace("screen-", ""));
    }
    document.querySelectorAll(".screen").forEach(function (screen) {
      screen.classList.toggle("active", screen.id === "screen-" + name);
    });
    document.body.dataset.screen = name;
  }

  function back() {
    var previous = history.pop();
    show(previous || "start", false);
  }

  // -- idle: back to the start after 20 s without a touch ------------------------------
  function touched() {
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(function () {
      if (document.body.dataset.screen !== "start") { reset(); }
    }, config.idle_s * 1000);
  }
  ["pointerdown", "keydown"].forEach(function (kind) {
    document.addEventListener(kind, touched, true);
  });

  // -- identity checks (the same rules as the server) ----------------------------------
  function checkIdCard(raw) {
    var value = raw.trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(value)) { return t["err.length_id"]; }
    var year = +value.slice(6, 10), month = +value.slice(10, 12), day = +value.slice(12, 14);
    var birth = new Date(year, month - 1, day);
    if (birth.getFullYear() !== year || birth.getMonth() !== month - 1 ||
        birth.getDate() !== day || year < 1900 || birth > new Date()) {
      return t["err.birth"];
    }
    var total = 0;
    for (var i = 0; i < 17; i++) { total += (+value[i]) * ID_WEIGHTS[i]; }
    return ID_CHECK[total % 11] === value[17] ? null : t["err.check_id"];
  }

  function checkCreditCode(raw) {
    var value = raw.trim().toUpperCase();
    if (value.length !== 18) { return t["err.length_credit"]; }
    for (var i = 0; i < 18; i++) {
      if (CREDIT_CHARSET.indexOf(value[i]) < 0) { return t["err.length_credit"]; }
    }
    var total = 0;
    for (var j = 0; j < 17; j++) { total += CREDIT_CHARSET.indexOf(value[j]) * CREDIT_WEIGHTS[j]; }
    return CREDIT_CHARSET[(31 - total % 31) % 31] === value[17] ? null : t["err.check_credit"];
  }

  function checkPhone(raw) {
    return /^1\d{10}$/.test(raw.replace(/[\s-]/g, "")) ? null : t["err.phone"];
  }

  // -- on-screen pads ------------------------------------------------------------------
  function buildPad(pad, keys, input) {
    pad.innerHTML = "";
    keys.split("").forEach(function (key) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "key";
      button.textContent = key;
      button.dataset.key = key;
      button.addEventListener("click", function () {
        var target = input();
        if (target.value.length < (+target.maxLength || 32)) { target.value += key; }
      });
      pad.appendChild(button);
    });
    // In words (退格, 清除): a pad with the letter C must not have a clear key called "C".
    [["backspace", t.backspace, function (target) { target.value = target.value.slice(0, -1); }],
     ["clear", t.clear, function (target) { target.value = ""; }]].forEach(function (item) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "key action";
      button.dataset.action = item[0];
      button.textContent = item[1];
      button.addEventListener("click", function () { item[2](input()); });
      pad.appendChild(button);
    });
  }

  buildPad(document.querySelector('[data-pad="checkin"]'), "1234567890",
           function () { return $("checkin-code"); });
  var lookupFocus = "lookup-number";
  buildPad(document.querySelector('[data-pad="headcount"]'), "1234567890",
           function () { return $("headcount"); });
  buildPad(document.querySelector('[data-pad="lookup"]'), "ABCDE1234567890X",
           function () { return $(lookupFocus); });
  ["lookup-number", "lookup-identity"].forEach(function (id) {
    $(id).addEventListener("focus", function () { lookupFocus = id; });
  });

  function identityKind(kind) {
    state.kind = kind;
    $("tab-id").classList.toggle("selected", kind === "visitor_id");
    $("tab-phone").classList.toggle("selected", kind === "phone");
    $("identity").value = "";
    $("identity").maxLength = kind === "phone" ? 11 : 18;
    $("identity-error").textContent = "";
    var keys = "1234567890";
    if (kind === "visitor_id") {
      keys = state.party === "enterprise" ? "1234567890ABCDEFGHJKLMNPQRTUWXY" : "1234567890X";
    }
    buildPad($("identity-pad"), keys, function () { return $("identity"); });
  }

  // -- the flow ------------------------------------------------------------------------
  function chooseParty(party) {
    state.party = party;
    var groups = $("service-groups");
    groups.innerHTML = "";
    ["comprehensive", "special", "pickup"].forEach(function (category) {
      var services = config.services.filter(function (service) {
        return service.category === category && service.parties.indexOf(party) >= 0;
      });
      if (!services.length) { return; }
      var group = document.createElement("div");
      group.className = "group";
      var title = document.createElement("h3");
      title.textContent = t["category." + category];
      group.appendChild(title);
      var grid = document.createElement("div");
      grid.className = "choices grid";
      services.forEach(function (service) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "service";
        button.dataset.service = service.code;
        button.textContent = service.name;
        button.addEventListener("click", function () { chooseService(service.code); });
        grid.appendChild(button);
      });
      group.appendChild(grid);
      groups.appendChild(group);
    });
    show("services");
  }

  function chooseService(code) {
    state.service = code;
    if (state.party === "enterprise") {
      $("headcount-hint").textContent = format(t.headcount_hint, { n: config.backoffice_headcount });
      $("headcount").value = "";
      $("headcount-error").textContent = "";
      show("headcount");
    } else {
      state.headcount = 1;
      showIdentity();
    }
  }

  function confirmHeadcount() {
    var value = parseInt($("headcount").value, 10);
    if (!(value >= 1 && value <= config.max_headcount)) {
      $("headcount-error").textContent = format(t["err.headcount"], { max: config.max_headcount });
      return;
    }
    state.headcount = value;
    showIdentity();
  }

  function showIdentity() {
    $("tab-id").textContent = state.party === "enterprise" ? t.credit_code : t.id_card;
    identityKind("visitor_id");
    show("identity");
  }

  function confirmIdentity(skip) {
    state.visitorId = null;
    state.phone = null;
    if (!skip) {
      var value = $("identity").value.trim().toUpperCase();
      if (value) {
        var problem = state.kind === "phone" ? checkPhone(value)
          : state.party === "enterprise" ? checkCreditCode(value) : checkIdCard(value);
        if (problem) { $("identity-error").textContent = problem; return; }
        if (state.kind === "phone") { state.phone = value; } else { state.visitorId = value; }
      }
    }
    show("green");
  }

  function request(method, path, body) {
    return fetch(API + path, {
      method: method,
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "Accept-Language": config.lang },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      }, function () { return { status: response.status, data: {} }; });
    });
  }

  function takeTicket(green) {
    var body = { service: state.service, party: state.party, headcount: state.headcount,
                 priority: green ? "green" : "normal", kiosk: config.kiosk, site: config.site };
    if (state.visitorId) { body.visitor_id = state.visitorId; }
    if (state.phone) { body.phone = state.phone; }
    state.request = body;
    show("wait");
    request("POST", "/tickets", body).then(function (answer) {
      if (answer.status === 200 || answer.status === 201) {
        showTicket(answer.data.ticket, answer.data.reused, answer.status === 201);
      } else {
        showError(answer);
      }
    }, networkError);
  }

  function showError(answer) {
    var error = (answer.data && answer.data.error) || {};
    if (answer.status === 400 && (error.code === "invalid_visitor_id" || error.code === "invalid_phone")) {
      history = ["start", "services"];
      show("identity", false);
      $("identity-error").textContent = error.message;
      return;
    }
    var title = t.error_title;
    var text = error.message || t.network_error;
    if (error.code === "hall_closed") {
      title = t.closed_title;
      text = format(t.closed_hours, config.hours) + t.full_stop + (error.message || "");
    } else if (error.code === "quota_reached") {
      title = t.quota_title;
    }
    $("message-title").textContent = title;
    $("message-text").textContent = text;
    document.body.dataset.error = error.code || "network";
    show("message", false);
  }

  function networkError() {
    showError({ status: 0, data: {} });
  }

  /* Every business of the visit, not only the first (one joined to a reused ticket too). */
  function serviceNames(ticket) {
    var codes = ticket.services && ticket.services.length ? ticket.services : [ticket.service];
    return codes.filter(Boolean).map(function (code) {
      var known = config.services.filter(function (service) { return service.code === code; })[0];
      return known ? known.name : (code === ticket.service && ticket.service_name) || code;
    }).join(config.lang === "en" ? ", " : "、");
  }

  /* A ticket on screen. `created`: this kiosk just issued it (the answer carries its id):
   * only then is the paper's image, with its QR code, shown and "printing" said. A reused
   * ticket or a look-up carries no id (SPEC §2): number, state and place, and a reprint. */
  function showTicket(ticket, reused, created) {
    state.ticket = ticket;
    $("result-number").textContent = ticket.number;
    $("result-line").textContent = config.queues[ticket.queue] || ticket.queue_name || ticket.queue;
    $("result-services").textContent = serviceNames(ticket);
    $("result-state").textContent = t["state." + ticket.state] || ticket.state;
    $("result-green").hidden = !ticket.green;
    var location = $("result-location");
    location.hidden = !ticket.location;
    location.textContent = ticket.location ? format(t.location, { location: ticket.location }) : "";
    var waiting = ticket.state === "waiting";
    $("result-ahead").textContent = waiting ? format(t.ahead, { n: ticket.waiting_ahead || 0 }) : "";
    var estimate = "";
    if (waiting && ticket.line_open === false) {
      estimate = t.line_closed;
    } else if (waiting && ticket.est_wait_s === null) {
      estimate = t.line_paused;
    } else if (waiting && !(ticket.est_wait_s > 0)) {
      estimate = t.soon;  // a counter is free now: never "About 0 minutes"
    } else if (waiting) {
      estimate = format(t.estimate, { n: Math.ceil((ticket.est_wait_s || 0) / 60) });
    }
    $("result-estimate").textContent = estimate;
    $("result-printing").hidden = !config.prints || !created;
    $("result-message").textContent = "";
    var note = $("reused-note");
    note.hidden = !reused;
    note.textContent = reused ? format(t.reused, { number: ticket.number }) : "";
    $("reprint-button").hidden = !config.prints || !(reused || state.lookup);
    $("return-button").hidden = !ticket.id || ticket.state !== "held";
    $("reinstate-button").hidden = !ticket.id || ticket.state !== "missed";
    var image = $("result-image");
    image.hidden = !created;
    if (created) {
      image.src = API + "/tickets/" + encodeURIComponent(ticket.id) + "/ticket.png?t=" + Date.now();
      image.alt = ticket.number;
    } else {
      image.removeAttribute("src");
      image.alt = "";
    }
    document.body.dataset.reused = reused ? "true" : "false";
    show("result", false);
  }

  function reprint() {
    var done = function (answer) {
      if (answer.status === 200 || answer.status === 201) {
        $("result-message").textContent = t.reprinted;
        $("result-printing").hidden = false;  // asked to print: now it is printing
        $("reprint-button").hidden = true;
      } else {
        $("result-message").textContent = (answer.data.error || {}).message || t.network_error;
      }
    };
    if (state.lookup) {
      request("POST", "/tickets/lookup", Object.assign({}, state.lookup,
        { reprint: true, kiosk: config.kiosk })).then(done, networkError);
    } else if (state.request) {
      request("POST", "/tickets", Object.assign({}, state.request, { reprint: true }))
        .then(done, networkError);
    }
  }

  function ticketAction(action) {
    request("POST", "/tickets/" + encodeURIComponent(state.ticket.id) + "/" + action, {})
      .then(function (answer) {
        if (answer.status === 200) { showTicket(answer.data.ticket, false, false); }
        else { $("result-message").textContent = (answer.data.error || {}).message || t.network_error; }
      }, networkError);
  }

  // -- a returning visitor ------------------------------------------------------------
  function lookup() {
    var number = $("lookup-number").value.trim().toUpperCase();
    var identity = $("lookup-identity").value.trim().toUpperCase();
    var body = { number: number, site: config.site };
    if (/^1\d{10}$/.test(identity)) {
      body.phone = identity;
    } else {
      var problem = /^\d{17}[\dX]$/.test(identity) ? checkIdCard(identity) : checkCreditCode(identity);
      if (problem && /^\d{17}[\dX]$/.test(identity) && !checkCreditCode(identity)) { problem = null; }
      if (problem) { $("lookup-error").textContent = problem; return; }
      body.visitor_id = identity;
    }
    request("POST", "/tickets/lookup", body).then(function (answer) {
      if (answer.status === 200) {
        state.lookup = body;
        state.request = null;
        showTicket(answer.data.ticket, false, false);
      } else {
        $("lookup-error").textContent = (answer.data.error || {}).message || t.network_error;
      }
    }, networkError);
  }

  // -- a booked visitor checks in with the 6-digit code (预约签到) ----------------------
  function checkIn() {
    var code = $("checkin-code").value.trim();
    if (!/^\d{6}$/.test(code)) { $("checkin-error").textContent = t["err.code"]; return; }
    $("checkin-error").textContent = "";
    state.lookup = null;
    state.request = null;  // no reprint by code: a used code is refused
    show("wait", false);
    request("POST", "/tickets", { appointment: code, kiosk: config.kiosk, site: config.site })
      .then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          showTicket(answer.data.ticket, answer.data.reused, answer.status === 201);
        } else {
          // In place, on the code screen: too early says when; a used code says so.
          var error = (answer.data && answer.data.error) || {};
          document.body.dataset.error = error.code || "network";
          $("checkin-error").textContent = error.message || t.network_error;
          show("checkin", false);
        }
      }, function () {
        $("checkin-error").textContent = t.network_error;
        show("checkin", false);
      });
  }

  // A QR scanner types the status URL and Enter: its unguessable id finds the ticket.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      var match = /\/t\/([A-Za-z0-9_-]{16,64})/.exec(scanBuffer);
      scanBuffer = "";
      if (match) {
        request("GET", "/tickets/" + encodeURIComponent(match[1])).then(function (answer) {
          if (answer.status === 200) {
            state.lookup = null;
            state.request = null;
            showTicket(answer.data.ticket, false, false);
          }
        }, networkError);
      }
    } else if (event.key.length === 1) {
      scanBuffer = (scanBuffer + event.key).slice(-200);
    }
  });

  // -- wiring --------------------------------------------------------------------------
  document.querySelectorAll("[data-party]").forEach(function (button) {
    button.addEventListener("click", function () { chooseParty(button.dataset.party); });
  });
  document.querySelectorAll("[data-action=back]").forEach(function (button) {
    button.addEventListener("click", back);
  });
  document.querySelectorAll("[data-action=home]").forEach(function (button) {
    button.addEventListener("click", reset);
  });
  document.querySelectorAll("[data-goto=lookup]").forEach(function (button) {
    button.addEventListener("click", function () { state.lookup = null; show("lookup"); });
  });
  document.querySelectorAll(".tab").forEach(function (tab) {
    tab.addEventListener("click", function () { identityKind(tab.dataset.kind); });
  });
  $("headcount-ok").addEventListener("click", confirmHeadcount);
  $("identity-next").addEventListener("click", function () { confirmIdentity(false); });
  $("identity-skip").addEventListener("click", function () { confirmIdentity(true); });
  $("green-yes").addEventListener("click", function () { takeTicket(true); });
  $("green-no").addEventListener("click", function () { takeTicket(false); });
  $("reprint-button").addEventListener("click", reprint);
  $("return-button").addEventListener("click", function () { ticketAction("return"); });
  $("reinstate-button").addEventListener("click", function () { ticketAction("reinstate"); });
  $("lookup-find").addEventListener("click", lookup);
  document.querySelectorAll("[data-goto=checkin]").forEach(function (button) {
    button.addEventListener("click", function () {
      $("checkin-code").value = "";
      $("checkin-error").textContent = "";
      show("checkin");
    });
  });
  $("checkin-ok").addEventListener("click", checkIn);

  reset();
  touched();
  document.body.dataset.ready = "true";
})();
