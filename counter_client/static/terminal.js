/* 一号 clerk's web terminal. Every path, event name and word comes from the page's
   #terminal-config (built from queue_server/protocol.py, counter_client/keys.py and i18n.py);
   the state comes from Socket.IO /counter (snapshot, counter, ticket, queues) and
   GET /api/v1/counters/<n>. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("terminal-config").textContent);
  var TEXT = config.text;
  var number = config.counter;
  var me = config.user.username;
  var token = config.token;

  var state = {
    seq: -1, // seq of the counter/ticket state shown
    linesSeq: -1, // seq of the lines shown
    counter: null,
    ticket: null,
    queues: [],
    lines: {},
    held: [],
    missed: [],
    busy: false,
    live: "off",
    figures: null,
  };
  var finishChoice = { key: null, codes: [] }; // 办件 chosen for the ticket in hand
  var refreshTimer = null;
  var figuresTimer = null;
  var noticeTimer = null;

  // -- words ---------------------------------------------------------------------------
  function t(key, values) {
    var text = Object.prototype.hasOwnProperty.call(TEXT, key) ? TEXT[key] : key;
    if (values) {
      Object.keys(values).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(values[name]));
      });
    }
    return text;
  }
  function has(key) {
    return Object.prototype.hasOwnProperty.call(TEXT, key);
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }
  /* An estimate in whole minutes ("约45分钟"), never mm:ss, which reads like a clock. */
  function estimate(seconds) {
    if (seconds === null || seconds === undefined) return t("line_estimate_unknown");
    if (seconds <= 0) return t("line_estimate_none");
    return t("line_estimate", { minutes: Math.max(1, Math.round(seconds / 60)) });
  }
  /* 暂停服务 · 午休: a reason of the dialog in the page's language, else as written. */
  function stateWords(counter) {
    var words = t("state_" + counter.state);
    if (counter.state !== "paused" || !counter.pause_reason) return words;
    var known = (config.pause_reasons || []).find(function (reason) {
      return reason.value === counter.pause_reason;
    });
    return words + " · " + (known ? known.label : counter.pause_reason);
  }
  function clock(iso) {
    return iso ? iso.substring(11, 16) : "";
  }
  function serviceName(code) {
    var found = config.services.find(function (service) { return service.code === code; });
    return found ? found.name : code;
  }
  function lineName(code, fallback) {
    var found = config.queues.find(function (queue) { return queue.code === code; });
    return found ? found.name : fallback;
  }
  /* The page's config names counters in the page's language; live messages in Chinese. */
  function counterOf(number) {
    return config.counters.find(function (row) { return row.number === number; }) || {};
  }
  function queueName(code) {
    var found = config.queues.find(function (queue) { return queue.code === code; });
    return found ? code + " · " + found.name : code;
  }

  // -- DOM helpers (text only: nothing from the server is parsed as HTML) ---------------
  function $(id) {
    return document.getElementById(id);
  }
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name === "onclick") node.addEventListener("click", value);
      else if (name.indexOf("data-") === 0 || name === "title" || name === "type") {
        node.setAttribute(name, value === true ? "" : value);
      } else node[name] = value;
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) {
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
      }
    });
    return node;
  }
  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // -- messages ------------------------------------------------------------------------
  function notify(kind, text, code) {
    var box = $("notice");
    box.textContent = text;
    box.className = "notice " + kind;
    box.dataset.kind = kind;
    box.dataset.code = code || "";
    box.hidden = false;
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { box.hidden = true; }, kind === "error" ? 12000 : 5000);
  }
  function errorText(action, error) {
    var code = error && error.code ? error.code : "other";
    var words = has("error_" + code) ? t("error_" + code) : t("error_other");
    var server = error && error.message ? error.message : "";
    var label = has("action_" + action) ? t("action_" + action) : action;
    var status = error && error.status ? " [" + error.status + "]" : "";
    if (config.lang === "en") return label + ": " + words + (server ? " — " + server : "") + status;
    return label + "：" + (server || words) + status;
  }

  // -- HTTP ----------------------------------------------------------------------------
  function goToLogin() {
    window.location.assign(config.urls.login);
  }
  function renewToken() {
    return fetch(config.urls.token, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) return false;
        return response.json().then(function (data) {
          token = data.token;
          return true;
        });
      })
      .catch(function () { return false; });
  }
  function api(method, path, body, retried) {
    var options = {
      method: method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Authorization: "Bearer " + token, Accept: "application/json", "Accept-Language": config.lang },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(
      function (response) {
        if (response.status === 401) {
          if (retried) {
            goToLogin();
            return Promise.reject({ code: "unauthenticated", silent: true });
          }
          // The token expired: a live session gives a new one; else back to the login page
          // (the ticket in hand stays at the counter).
          return renewToken().then(function (renewed) {
            if (renewed) return api(method, path, body, true);
            goToLogin();
            return Promise.reject({ code: "unauthenticated", silent: true });
          });
        }
        return response.json().catch(function () { return null; }).then(function (data) {
          if (!response.ok) {
            var error = (data && data.error) || { code: "other", message: response.statusText };
            error.status = response.status;
            return Promise.reject(error);
          }
          return data;
        });
      },
      function () {
        return Promise.reject({ code: "network", message: "" });
      }
    );
  }
  function actionPath(action, ticketId) {
    return config.api + config.actions[action]
      .replace("{n}", String(number))
      .replace("{id}", encodeURIComponent(ticketId || ""));
  }

  // -- state ---------------------------------------------------------------------------
  function fresh(seq, known) {
    return seq === null || seq === undefined || seq >= known;
  }
  function applySnapshot(snapshot) {
    if (!snapshot || !fresh(snapshot.seq, state.seq)) return;
    state.seq = snapshot.seq;
    state.counter = snapshot.counter;
    state.ticket = snapshot.ticket;
    state.held = snapshot.held || [];
    state.missed = snapshot.missed || [];
    if (fresh(snapshot.seq, state.linesSeq)) {
      state.linesSeq = snapshot.seq;
      state.queues = snapshot.queues || [];
      state.lines = snapshot.lines || {};
    }
    render();
  }
  function refresh() {
    refreshTimer = null;
    if (!number) return Promise.resolve();
    return api("GET", config.api + "/counters/" + number)
      .then(applySnapshot)
      .catch(function () {
        // Nothing to do: the live connection reports its own state and the next message or
        // the periodic refresh brings the counter back.
      });
  }
  function scheduleRefresh(delay) {
    if (refreshTimer) return;
    refreshTimer = setTimeout(refresh, delay === undefined ? 250 : delay);
  }
  function loadFigures() {
    figuresTimer = null;
    return api("GET", config.urls.figures)
      .then(function (figures) {
        state.figures = figures;
        renderFigures();
      })
      .catch(function () {});
  }
  function scheduleFigures() {
    if (figuresTimer) return;
    figuresTimer = setTimeout(loadFigures, 1500);
  }

  // -- permissions ---------------------------------------------------------------------
  function signedHere() {
    return !!(state.counter && state.counter.clerk === me);
  }
  function maySignIn() {
    return !!state.counter && config.sign_in.indexOf(state.counter.counter) >= 0;
  }
  function canAct() {
    return signedHere() || (config.manager && !!state.counter);
  }
  function allowed(action) {
    if (!state.counter || state.busy) return false;
    var counterState = state.counter.state;
    var ticket = state.ticket;
    switch (action) {
      case "call_next":
      case "call":
        return canAct() && counterState === "open" && !ticket;
      case "pause_resume":
        return canAct() && ((counterState === "open" && !ticket) || counterState === "paused");
      case "sign_in":
        return !signedHere() && !state.counter.clerk && maySignIn();
      case "sign_out":
        return signedHere() && !ticket;
      case "return":
      case "reinstate":
        return canAct();
      default:
        return canAct() && !!ticket && (config.needs[action] || []).indexOf(ticket.state) >= 0;
    }
  }

  // -- actions -------------------------------------------------------------------------
  function act(action, body, ticketId, subject, onError) {
    if (state.busy) return Promise.resolve();
    state.busy = true;
    renderActions();
    return api("POST", actionPath(action, ticketId), body === undefined ? {} : body)
      .then(
        function (data) {
          // Done: an earlier refusal of a call by number no longer applies.
          callNumberError("");
          report(action, data, subject);
        },
        function (error) {
          if (error && error.silent) return;
          if (onError) onError(error);
          else notify("error", errorText(action, error), error && error.code);
        }
      )
      .then(function () {
        // The answer is in: the next action may go while the state catches up (the live
        // messages usually came first; the snapshot below also names held and missed).
        state.busy = false;
        render();
        return refresh();
      })
      .then(loadFigures);
  }
  function report(action, data, subject) {
    if (action === "call_next" && data && data.ticket === null) {
      notify("info", t("nobody_waiting"), "empty");
      return;
    }
    var ticket = data && data.ticket;
    var values = {
      number: ticket ? ticket.number : subject || "",
      queue: ticket ? queueName(ticket.queue) : "",
    };
    if (action === "sign_in" || action === "sign_out") values.number = number;
    if (has("done_" + action)) notify("ok", t("done_" + action, values), action);
  }
  /* Why an action cannot go now, and which key helps (issue 14: not just "not allowed"). */
  function why(action) {
    var counter = state.counter;
    var ticket = state.ticket;
    var values = { number: ticket ? ticket.number : "" };
    var paused = counter.state === "paused";
    var closed = counter.state === "closed";
    switch (action) {
      case "call_next":
      case "call":
        if (paused) return t("why_paused");
        if (closed) return t("why_closed");
        if (ticket) return t(ticket.state === "serving" ? "why_serving_call" : "why_called_call", values);
        break;
      case "pause_resume":
        if (closed) return t("why_closed_pause");
        if (ticket) return t("why_in_hand_pause", values);
        break;
      default:
        if (!ticket) return paused ? t("why_paused_no_ticket") : closed ? t("why_closed") : t("why_no_ticket");
        if (ticket.state === "serving" && has("why_serving_" + action)) return t("why_serving_" + action, values);
    }
    return "";
  }
  function refusal(action) {
    if (!canAct()) return errorText(action, { code: "forbidden", message: "" });
    var words = why(action);
    if (!words) return errorText(action, { code: "invalid_state", message: "" });
    var label = has("action_" + action) ? t("action_" + action) : action;
    return label + (config.lang === "en" ? ": " : "：") + words;
  }
  function trigger(action) {
    if (!allowed(action)) {
      if (!state.busy && state.counter) {
        notify("error", refusal(action), canAct() ? "invalid_state" : "forbidden");
      }
      return;
    }
    switch (action) {
      case "transfer":
        openTransfer();
        break;
      case "hold":
        openHold();
        break;
      case "pause_resume":
        if (state.counter.state === "paused") act("resume");
        else openPause();
        break;
      case "no_show":
        openNoShow();
        break;
      case "finish":
        act("finish", finishBody(), null, state.ticket.number);
        break;
      default:
        act(action, undefined, null, state.ticket ? state.ticket.number : "");
    }
  }
  function finishBody() {
    var step = currentStep(state.ticket);
    var planned = step ? step.services.slice().sort() : [];
    var chosen = finishChoice.codes.slice().sort();
    if (!chosen.length || chosen.join(",") === planned.join(",")) return {};
    return { services: finishChoice.codes.slice() };
  }
  function currentStep(ticket) {
    if (!ticket || !ticket.steps) return null;
    return ticket.steps.find(function (step) { return step.position === ticket.step; }) || null;
  }

  // -- dialogs -------------------------------------------------------------------------
  function anyDialogOpen() {
    return !!document.querySelector("dialog[open]");
  }
  function openTransfer() {
    var dialog = $("transfer-dialog");
    $("transfer-title").textContent = t("transfer_title", { number: state.ticket.number });
    var form = $("transfer-form");
    form.elements.position.value = config.transfer_position || "front";
    var pickup = config.queues.find(function (queue) { return queue.code !== state.ticket.queue; });
    if (pickup && form.elements.queue.value === state.ticket.queue) form.elements.queue.value = pickup.code;
    dialog.showModal();
  }
  function openHold() {
    $("hold-title").textContent = t("hold_title", { number: state.ticket.number });
    var form = $("hold-form");
    form.elements.reason.value = t("hold_reason_default");
    form.elements.keep.value = "free";
    $("hold-dialog").showModal();
    form.elements.reason.select();
  }
  function openPause() {
    var form = $("pause-form");
    form.reset();
    $("pause-dialog").showModal();
    form.querySelector('input[name="reason"]:checked').focus();
  }
  function openNoShow() {
    $("no-show-question").textContent = t("no_show_question", { number: state.ticket.number });
    $("no-show-dialog").showModal();
    $("no-show-ok").focus();
  }
  function callByNumber(event) {
    event.preventDefault();
    var input = $("call-number-input");
    // "a003", "Ａ００３" and " A003 " are A003.
    var wanted = input.value.normalize("NFKC").replace(/\s+/g, "").toUpperCase();
    if (!/^[A-Z]+[0-9]{3,}$/.test(wanted)) {
      callNumberError(t("call_number_invalid"), "invalid_field");
      input.focus();
      return;
    }
    if (!allowed("call")) {
      if (!state.busy) callNumberError(refusal("call"), canAct() ? "invalid_state" : "forbidden");
      return;
    }
    callNumberError("");
    var typed = input.value;
    var refused = false;
    act("call", { number: wanted }, null, wanted, function (error) {
      refused = true;
      callNumberError(errorText("call", error), error && error.code);
    }).then(function () {
      // Called: the box is emptied for the next number (unless the clerk typed on meanwhile).
      if (!refused && input.value === typed) input.value = "";
    });
  }
  function callNumberError(text, code) {
    var box = $("call-number-error");
    box.textContent = text;
    box.dataset.code = code || "";
    box.hidden = !text;
  }
  function wireDialogs() {
    $("call-number-form").addEventListener("submit", callByNumber);
    $("call-number-input").addEventListener("input", function () { callNumberError(""); });
    $("pause-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var picked = form.elements.reason.value;
      var preset = config.pause_reasons.find(function (reason) { return reason.key === picked; });
      var reason = preset ? preset.value : picked;
      if (picked === "other") {
        reason = form.elements.other.value.trim();
        if (!reason) {
          form.elements.other.focus();
          return;
        }
      }
      $("pause-dialog").close();
      act("pause", { reason: reason });
    });
    $("pause-other").addEventListener("focus", function () {
      $("pause-form").elements.reason.value = "other";
    });
    $("no-show-form").addEventListener("submit", function (event) {
      event.preventDefault();
      $("no-show-dialog").close();
      if (allowed("no_show")) act("no_show", undefined, null, state.ticket ? state.ticket.number : "");
    });
    document.querySelectorAll("dialog .cancel").forEach(function (button) {
      button.addEventListener("click", function () { button.closest("dialog").close(); });
    });
    $("transfer-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var kind = form.elements.kind.value;
      var body = { position: form.elements.position.value };
      if (kind === "counter") body.counter = parseInt(form.elements.counter.value, 10);
      else body[kind] = form.elements[kind].value;
      $("transfer-dialog").close();
      act("transfer", body, null, state.ticket ? state.ticket.number : "");
    });
    $("hold-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var form = event.target;
      var reason = form.elements.reason.value.trim();
      if (!reason) {
        form.elements.reason.focus();
        return;
      }
      $("hold-dialog").close();
      act(
        "hold",
        { reason: reason, keep_counter: form.elements.keep.value === "keep" },
        null,
        state.ticket ? state.ticket.number : ""
      );
    });
    // Choosing a target selects its kind.
    ["queue", "counter", "service"].forEach(function (kind) {
      $("transfer-" + kind).addEventListener("change", function () {
        $("transfer-form").elements.kind.value = kind;
      });
    });
  }

  // -- rendering -----------------------------------------------------------------------
  function render() {
    renderHeader();
    renderActions();
    renderTicket();
    renderLines();
    renderAside();
  }
  function setLive(live) {
    state.live = live;
    var node = $("live");
    node.dataset.live = live;
    node.textContent = live === "ok" ? t("live_ok") : live === "poll" ? t("live_missing") : t("live_lost");
  }
  function renderHeader() {
    var counter = state.counter;
    var hint = $("hint");
    if (!counter) return;
    var known = counterOf(counter.counter);
    var title = t("counter_no", { number: counter.counter }) + " · " + (known.name || counter.counter_name);
    var location = counter.location ? known.location || counter.location : null;
    $("counter-title").textContent = title + (location ? "（" + location + "）" : "");
    var badge = $("counter-state");
    badge.textContent = stateWords(counter);
    badge.dataset.state = counter.state;
    $("counter-clerk").textContent = counter.clerk_name
      ? t("clerk_line", { name: counter.clerk_name, clerk_no: counter.clerk_no || "–" })
      : t("nobody");
    var signIn = $("sign-in");
    var signOut = $("sign-out");
    signIn.hidden = signedHere() || !!counter.clerk || !maySignIn();
    signIn.disabled = !allowed("sign_in");
    signOut.hidden = !signedHere();
    signOut.disabled = !allowed("sign_out");
    var words = "";
    if (!signedHere()) {
      if (counter.clerk) words = t("occupied_by", { name: counter.clerk_name || counter.clerk });
      else if (config.mine && config.mine !== number) words = t("signed_in_elsewhere", { number: config.mine });
      else words = t("not_signed_in_here");
      if (config.manager) words += " · " + t("manager_acting");
    }
    hint.textContent = words;
    hint.hidden = !words;
    document.title = title + " · " + t("app_name");
  }
  function renderActions() {
    document.querySelectorAll("#actions button[data-action]").forEach(function (button) {
      var action = button.dataset.action;
      button.disabled = !allowed(action);
      if (action === "pause_resume" && state.counter) {
        var paused = state.counter.state === "paused";
        button.querySelector(".label").textContent = paused ? t("action_resume") : t("action_pause");
        button.dataset.mode = paused ? "resume" : "pause";
      }
    });
    var signIn = $("sign-in");
    var signOut = $("sign-out");
    if (state.counter) {
      signIn.disabled = !allowed("sign_in");
      signOut.disabled = !allowed("sign_out");
    }
  }
  function renderTicket() {
    var ticket = state.ticket;
    $("ticket-empty").hidden = !!ticket;
    $("ticket").hidden = !ticket;
    if (!ticket) {
      finishChoice = { key: null, codes: [] };
      return;
    }
    $("ticket-number").textContent = ticket.number;
    var badge = $("ticket-state");
    badge.textContent = t("ticket_" + ticket.state);
    badge.dataset.state = ticket.state;
    var reason = $("ticket-reason");
    reason.hidden = !ticket.reason;
    reason.textContent = ticket.reason ? t("reason_" + ticket.reason) : "";
    reason.dataset.reason = ticket.reason || "";

    var fields = clear($("ticket-fields"));
    function field(key, value, id) {
      if (value === null || value === undefined || value === "") return;
      fields.appendChild(el("div", { "data-field": id || key }, [
        el("dt", { text: t(key) }),
        el("dd", { text: String(value) }),
      ]));
    }
    field("field_party", ticket.party ? t("party_" + ticket.party) : null, "party");
    field("field_headcount", ticket.headcount ? t("people", { count: ticket.headcount }) : null, "headcount");
    if (ticket.priority === "green") field("field_priority", t("priority_green"), "priority");
    field("field_services", (ticket.services || []).map(serviceName).join("、"), "services");
    field("field_plan", t("step_of", { step: ticket.step, total: ticket.steps_total }), "plan");
    field("field_reason", ticket.reason ? t("reason_" + ticket.reason) : t("reason_none"), "reason");
    field("field_identity", ticket.visitor_id_masked, "identity");
    field("field_phone", ticket.phone_masked, "phone");

    var steps = clear($("ticket-steps"));
    (ticket.steps || []).forEach(function (step) {
      var parts = [queueName(step.queue), (step.services || []).map(serviceName).join("、")];
      parts.push(step.outcome ? t("outcome_" + step.outcome) : t("step_" + step.status));
      if (step.counter) parts.push(t("history_at", { counter: step.counter, clerk: step.clerk_name || "" }).trim());
      if (step.called_at) parts.push(t("history_called", { time: clock(step.called_at) }));
      if (step.started_at) parts.push(t("history_started", { time: clock(step.started_at) }));
      if (step.ended_at) parts.push(t("history_ended", { time: clock(step.ended_at) }));
      if (step.recalls) parts.push(t("history_recalls", { count: step.recalls }));
      if (step.hold_reason) parts.push(t("history_hold", { reason: step.hold_reason }));
      if (step.reason) parts.push(t("reason_" + step.reason));
      steps.appendChild(el("li", {
        className: step.position === ticket.step ? "current" : "",
        "data-status": step.status,
      }, [el("strong", { text: t("step_of", { step: step.position, total: ticket.steps_total }) }), " " + parts.filter(Boolean).join(" · ")]));
    });
    renderFinishServices(ticket);
  }
  function renderFinishServices(ticket) {
    var step = currentStep(ticket);
    var key = ticket.id + ":" + ticket.step;
    if (finishChoice.key !== key) {
      finishChoice = { key: key, codes: step ? step.services.slice() : [] };
    }
    var list = clear($("finish-services-list"));
    config.services.forEach(function (service) {
      var box = el("input", { type: "checkbox", value: service.code, checked: finishChoice.codes.indexOf(service.code) >= 0 });
      box.addEventListener("change", function () {
        finishChoice.codes = Array.prototype.map.call(
          list.querySelectorAll("input:checked"), function (input) { return input.value; }
        );
      });
      list.appendChild(el("label", { className: "chip" }, [box, " " + service.name]));
    });
  }
  function renderLines() {
    var root = clear($("lines"));
    if (!state.counter) return;
    var callable = allowed("call");
    (state.counter.queues || []).forEach(function (code) {
      var summary = state.queues.find(function (queue) { return queue.code === code; }) || {
        code: code, name: code, waiting: 0, longest_wait_s: 0, est_wait_s: 0,
      };
      var entries = state.lines[code] || [];
      var list = el("ol", { className: "next" });
      entries.forEach(function (entry) {
        var reserved = entry.reserved_counter && entry.reserved_counter !== number;
        var details = [duration(entry.waited_s)];
        if (entry.party === "enterprise") details.push(t("party_enterprise"));
        if (entry.headcount > 1) details.push(t("people", { count: entry.headcount }));
        if (entry.reason) details.push(t("reason_" + entry.reason));
        if (entry.reserved_counter) details.push(t("line_reserved", { counter: entry.reserved_counter }));
        var button = el("button", {
          type: "button",
          className: "call-number" + (entry.reason ? " has-reason" : ""),
          "data-number": entry.number,
          disabled: !callable || reserved,
          title: t("action_call") + " " + entry.number,
          onclick: function () {
            if (allowed("call")) act("call", { number: entry.number }, null, entry.number);
          },
        }, [el("span", { className: "num", text: entry.number }), el("small", { text: details.join(" · ") })]);
        list.appendChild(el("li", {}, [button]));
      });
      var head = el("div", { className: "line-head" }, [
        el("strong", { text: summary.code + " · " + lineName(summary.code, summary.name) }),
        el("span", { className: "count", "data-waiting": String(summary.waiting), text: t("line_waiting", { count: summary.waiting }) }),
        el("span", { text: t("line_longest", { time: duration(summary.longest_wait_s) }) }),
        el("span", { className: "estimate", text: estimate(summary.est_wait_s) }),
      ]);
      root.appendChild(el("div", { className: "line", "data-queue": code }, [
        head,
        entries.length ? list : el("p", { className: "empty", text: t("line_empty") }),
      ]));
    });
  }
  function renderAside() {
    var callable = allowed("call");
    var held = clear($("held"));
    state.held.forEach(function (entry) {
      var mine = entry.keep_counter && entry.counter === number;
      held.appendChild(el("li", { "data-number": entry.number, "data-id": entry.id }, [
        el("button", {
          type: "button", className: "call-number", disabled: !(callable && mine),
          title: t("action_call") + " " + entry.number,
          onclick: function () { act("call", { number: entry.number }, null, entry.number); },
        }, [el("span", { className: "num", text: entry.number })]),
        el("span", { className: "what", text: [
          queueName(entry.queue), entry.reason || "",
          entry.keep_counter ? t("held_keep") + " " + t("counter_no", { number: entry.counter }) : t("held_free"),
          t("until", { time: clock(entry.return_until) }),
        ].filter(Boolean).join(" · ") }),
        el("button", {
          type: "button", className: "small aside-action", "data-action": "return",
          disabled: !allowed("return"),
          onclick: function () { act("return", undefined, entry.id, entry.number); },
        }, [t("action_return")]),
      ]));
    });
    if (!state.held.length) held.appendChild(el("li", { className: "empty", text: t("none") }));
    var missed = clear($("missed"));
    state.missed.forEach(function (entry) {
      missed.appendChild(el("li", { "data-number": entry.number, "data-id": entry.id }, [
        el("button", {
          type: "button", className: "call-number", disabled: !callable,
          title: t("action_call") + " " + entry.number,
          onclick: function () { act("call", { number: entry.number }, null, entry.number); },
        }, [el("span", { className: "num", text: entry.number })]),
        el("span", { className: "what", text: [
          queueName(entry.queue), t("until", { time: clock(entry.reinstate_until) }),
        ].join(" · ") }),
        el("button", {
          type: "button", className: "small aside-action", "data-action": "reinstate",
          disabled: !allowed("reinstate"),
          onclick: function () { act("reinstate", undefined, entry.id, entry.number); },
        }, [t("action_reinstate")]),
      ]));
    });
    if (!state.missed.length) missed.appendChild(el("li", { className: "empty", text: t("none") }));
  }
  function renderFigures() {
    var figures = state.figures;
    if (!figures) return;
    $("figure-served").textContent = String(figures.served);
    $("figure-avg-service").textContent = duration(figures.avg_service_s);
    $("figure-rating").textContent = figures.rating_avg === null ? "–" : figures.rating_avg.toFixed(1) + " / 5";
    $("figures-more").textContent = [
      t("figure_ratings", { count: figures.ratings }),
      t("figure_called") + " " + figures.called,
      t("figure_no_show") + " " + figures.no_show,
      t("figure_transferred") + " " + figures.transferred,
      t("figure_held") + " " + figures.held,
    ].join(" · ");
  }

  // -- live ----------------------------------------------------------------------------
  function connectLive() {
    if (typeof window.io !== "function") {
      setLive("poll");
      refresh();
      setInterval(refresh, 3000);
      return;
    }
    setLive("lost");
    var query = {};
    query[config.counter_query] = String(number);
    var socket = window.io(config.namespace, {
      transports: config.transports,
      query: query,
      auth: function (send) { send({ token: token }); },
      reconnection: true,
    });
    var events = config.events;
    socket.on("connect", function () { setLive("ok"); });
    socket.on("disconnect", function () { setLive("lost"); });
    socket.on("connect_error", function (error) {
      setLive("lost");
      if (socket.active) return; // a transport problem: the client retries by itself
      // Refused by the server: an expired token is renewed from the session, else the
      // clerk signs in again; an unknown counter is reported.
      if (error && error.message === "unauthenticated") {
        renewToken().then(function (renewed) {
          if (renewed) setTimeout(function () { socket.connect(); }, 500);
          else goToLogin();
        });
      } else {
        notify("error", (error && error.message) || t("error_other"), "refused");
        setTimeout(function () { socket.connect(); }, 5000);
      }
    });
    socket.on(events.snapshot, function (snapshot) {
      applySnapshot(snapshot);
      scheduleFigures();
    });
    socket.on(events.counter, function (payload) {
      if (payload.counter !== number || !fresh(payload.seq, state.seq)) return;
      state.counter = Object.assign({}, state.counter, payload);
      render();
      scheduleRefresh(); // the snapshot also names the signed-in user
    });
    socket.on(events.ticket, function (payload) {
      if (payload.counter !== number || !fresh(payload.seq, state.seq)) return;
      if (payload.seq !== null && payload.seq !== undefined) state.seq = payload.seq;
      state.ticket = payload.ticket;
      render();
      scheduleRefresh();
      scheduleFigures();
    });
    socket.on(events.queues, function (payload) {
      if (!fresh(payload.seq, state.linesSeq)) return;
      state.linesSeq = payload.seq;
      state.queues = payload.queues || state.queues;
      state.lines = payload.lines || state.lines;
      renderLines();
      renderAside();
      scheduleRefresh(400); // held and missed lists, which `queues` does not carry
      scheduleFigures();
    });
  }

  // -- start ---------------------------------------------------------------------------
  function wireButtons() {
    document.querySelectorAll("#actions button[data-action]").forEach(function (button) {
      button.addEventListener("click", function () { trigger(button.dataset.action); });
    });
    $("sign-in").addEventListener("click", function () {
      if (allowed("sign_in")) act("sign_in");
    });
    $("sign-out").addEventListener("click", function () {
      if (allowed("sign_out")) act("sign_out");
    });
    $("counter-select").addEventListener("change", function () {
      $("counter-picker").submit();
    });
    var keys = {};
    config.shortcuts.forEach(function (pair) { keys[pair[1]] = pair[0]; });
    document.addEventListener("keydown", function (event) {
      var action = keys[event.key];
      if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
      event.preventDefault(); // F1 help, F3 find, F5 reload, F6 address bar, F7 caret
      if (event.repeat || anyDialogOpen()) return;
      trigger(action);
    });
  }

  wireButtons();
  wireDialogs();
  if (!number) {
    notify("error", config.requested ? t("error_not_found") + "：" + t("counter_no", { number: config.requested }) : t("error_not_found"), "not_found");
    return;
  }
  render();
  refresh();
  loadFigures();
  connectLive();
  setInterval(function () {
    // Waits grow while nothing happens; redraw them every few seconds.
    scheduleRefresh(0);
  }, 15000);
})();
