/* The visitor's phone page (/t/<ticket id>, the QR on the paper ticket): the number, the
 * plan of the visit, people ahead and the estimate, the state in words, and what the
 * visitor may do now (cancel, return after a hold, rejoin after a no-show). The first paint
 * uses the ticket embedded in the page; `/ticket` keeps it live afterwards. */
(function () {
  'use strict';

  var Y = window.Yihao;
  var t = Y.t;
  var config = Y.config;
  var POLL_MS = 15000;        // while offline, ask over plain HTTP now and then
  var RECHECK_MS = 20000;     // deadlines (return window, grace) pass without any message
  var CLOSE_AHEAD = 3;        // this many people ahead or fewer: "快轮到您了"

  var ticket = config.ticket;
  var lastSeq = -1;
  var confirming = false;
  var confirmingReturn = false;  // 我回来了 asks first: only from the hall (docs/screens.md)
  var closeAlerted = false;      // the close-to-turn alert vibrates and notifies once
  var busy = false;
  var errorText = '';
  var nodes = {
    number: document.getElementById('number'),
    green: document.getElementById('green'),
    location: document.getElementById('location'),
    holdReason: document.getElementById('hold-reason'),
    service: document.getElementById('service'),
    plan: document.getElementById('plan'),
    status: document.getElementById('status'),
    title: document.getElementById('state-title'),
    callBox: document.getElementById('call-box'),
    stats: document.getElementById('stats'),
    ahead: document.getElementById('ahead'),
    estimate: document.getElementById('estimate'),
    detail: document.getElementById('state-detail'),
    note: document.getElementById('state-note'),
    actions: document.getElementById('actions'),
    error: document.getElementById('error'),
    closeBanner: document.getElementById('close-banner')
  };

  function placeOf(counterNumber) {
    var counter = config.counters[String(counterNumber)] || {};
    return Y.place(counterNumber, counter.location, 'ticket.place');
  }

  function before(iso) {
    var deadline = Date.parse(iso || '');
    return !isNaN(deadline) && Date.now() <= deadline;
  }

  function serviceNames() {
    var codes = ticket.services && ticket.services.length ? ticket.services : [ticket.service];
    var names = codes.filter(Boolean).map(function (code) { return config.services[code] || code; });
    if (!names.length && ticket.service_name) names = [ticket.service_name];
    return names.join(config.lang === 'en' ? ', ' : '、');
  }

  // Visits across days: "出件：12月3日起" / "Pickup from 3 December" (SPEC §8).
  function pickupNote(day) {
    var parts = day.split('-').map(Number);
    var when = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2], 12));
    var text = when.toLocaleDateString(config.lang === 'en' ? 'en-GB' : 'zh-CN',
      { month: 'long', day: 'numeric', timeZone: 'UTC' });
    return t('ticket.pickup_on', { date: text });
  }

  function button(label, kind, onClick) {
    var node = Y.element('button', kind, label);
    node.type = 'button';
    node.disabled = busy;
    node.addEventListener('click', onClick);
    nodes.actions.appendChild(node);
    return node;
  }


  /* "约 12–18 分钟": the estimate's range (p10–p90) in whole minutes; one figure when the
     range rounds to one minute. */
  function estimateText(ticket) {
    var range = ticket.est_wait_range_s;
    if (!range || range.length !== 2) return Y.minutes(ticket.est_wait_s);
    var low = Math.max(1, Math.round(range[0] / 60));
    var high = Math.max(low, Math.ceil(range[1] / 60));
    if (low === high) return Y.minutes(ticket.est_wait_s);
    return t('minutes.range', { low: low, high: high });
  }
  function renderActions() {
    nodes.actions.textContent = '';
    var state = ticket.state;
    if (confirming && (state === 'waiting' || state === 'held' || state === 'missed')) {
      nodes.actions.appendChild(Y.element('p', 'confirm', t('ticket.cancel_confirm')));
      button(t('ticket.cancel_yes'), 'danger', function () { act('cancel'); })
        .setAttribute('data-action', 'cancel-yes');
      button(t('ticket.cancel_no'), 'secondary', function () {
        confirming = false;
        render();
      }).setAttribute('data-action', 'cancel-no');
      return;
    }
    confirming = false;
    if (state === 'held' && confirmingReturn) {
      nodes.actions.appendChild(Y.element('p', 'confirm', t('ticket.return_confirm')));
      button(t('ticket.return_yes'), 'primary', function () { act('return'); })
        .setAttribute('data-action', 'return-yes');
      button(t('ticket.return_no'), 'secondary', function () {
        confirmingReturn = false;
        render();
      }).setAttribute('data-action', 'return-no');
      return;
    }
    confirmingReturn = false;
    if (state === 'held') {
      button(t('ticket.return'), 'primary', function () {
        confirmingReturn = true;
        render();
      }).setAttribute('data-action', 'return');
    }
    if (state === 'missed' && before(ticket.reinstate_until)) {
      button(t('ticket.reinstate'), 'primary', function () { act('reinstate'); })
        .setAttribute('data-action', 'reinstate');
    }
    if (state === 'waiting' || state === 'held' || state === 'missed') {
      button(t('ticket.cancel'), state === 'waiting' ? 'secondary' : 'link', function () {
        confirming = true;
        render();
      }).setAttribute('data-action', 'cancel');
    }
  }

  function render() {
    var state = ticket.state;
    nodes.number.textContent = ticket.number;
    nodes.service.textContent = serviceNames();
    var plan = t('ticket.step', { step: ticket.step, total: ticket.steps_total });
    var line = Y.name('queues', ticket.queue, ticket.queue_name);
    nodes.plan.textContent = line ? plan + ' · ' + line : plan;
    nodes.status.setAttribute('data-state', state);
    document.body.setAttribute('data-state', state);
    nodes.title.textContent = t('state.' + state);

    nodes.callBox.hidden = !(state === 'called' || state === 'serving') || !ticket.counter;
    if (state === 'called' && ticket.counter) {
      nodes.callBox.textContent = t('ticket.go_to', { place: placeOf(ticket.counter) });
    } else if (state === 'serving' && ticket.counter) {
      nodes.callBox.textContent = t('ticket.serving_at', { place: placeOf(ticket.counter) });
    }

    nodes.green.hidden = !ticket.green;
    var waitsHere = (state === 'waiting' || state === 'held' || state === 'missed');
    nodes.location.hidden = !(waitsHere && ticket.location);
    nodes.location.textContent = ticket.location
      ? t('ticket.wait_at', { location: ticket.location }) : '';
    nodes.holdReason.hidden = !(state === 'held' && ticket.hold_reason);
    nodes.holdReason.textContent = ticket.hold_reason
      ? t('ticket.hold_reason', { reason: ticket.hold_reason }) : '';

    nodes.stats.hidden = state !== 'waiting';
    nodes.estimate.setAttribute('data-range', (ticket.est_wait_range_s || []).join(','));
    if (state === 'waiting') {
      nodes.ahead.textContent = t('ticket.ahead_value', { count: ticket.waiting_ahead || 0 });
      // Never "0 minutes" for a line nobody serves now (SPEC §4).
      if (ticket.line_open === false) nodes.estimate.textContent = t('ticket.line_closed');
      else if (ticket.est_wait_s === null) nodes.estimate.textContent = t('ticket.line_paused');
      else nodes.estimate.textContent = ticket.est_wait_s ? estimateText(ticket)
        : t('ticket.soon');
    }

    var close = isClose();
    nodes.closeBanner.hidden = !close;
    nodes.closeBanner.textContent = close ? closeText() : '';
    if (close && window.Notification && Notification.permission === 'default') {
      // Asked only from the visitor's tap, as browsers require.
      var enable = Y.element('button', 'link', t('ticket.notify_enable'));
      enable.type = 'button';
      enable.setAttribute('data-action', 'notify');
      enable.addEventListener('click', function () {
        Notification.requestPermission().then(render, render);
      });
      nodes.closeBanner.appendChild(enable);
    }

    var detail = '';
    var note = '';
    if (state === 'waiting') {
      // "You are next" only while a counter of the line is open: else nobody calls yet.
      detail = ticket.waiting_ahead === 0 && ticket.line_open !== false ? t('ticket.next') : '';
    } else if (state === 'called') {
      detail = t('ticket.called_detail', { number: ticket.number });
    } else if (state === 'held') {
      detail = t('ticket.held_detail');
      if (ticket.held_at_counter) {
        note = t('ticket.held_counter', { place: placeOf(ticket.held_at_counter) }) + ' ';
      }
      if (ticket.return_until) {
        note += t('ticket.return_until', { time: Y.clockTime(ticket.return_until) });
      }
    } else if (state === 'missed') {
      detail = t('ticket.missed_detail');
      note = before(ticket.reinstate_until)
        ? t('ticket.reinstate_until', { time: Y.clockTime(ticket.reinstate_until) })
        : t('ticket.reinstate_over');
    } else if (state === 'done' || state === 'cancelled' || state === 'expired') {
      detail = t('ticket.' + state + '_detail');
    }
    if (state === 'done' && ticket.pickup_on) note = pickupNote(ticket.pickup_on);
    nodes.detail.textContent = detail;
    nodes.detail.hidden = !detail;
    nodes.note.textContent = note;
    nodes.note.hidden = !note;
    nodes.error.textContent = errorText;
    nodes.error.hidden = !errorText;
    renderActions();
    document.title = state === 'called' && ticket.counter
      ? ticket.number + ' · ' + t('ticket.go_to', { place: placeOf(ticket.counter) })
      : ticket.number + ' · ' + t('ticket.title');
  }

  function alertCalled() {
    // Browsers allow vibration only after the visitor has touched the page once.
    var activation = navigator.userActivation;
    if (navigator.vibrate && activation && activation.hasBeenActive) {
      navigator.vibrate([400, 200, 400, 200, 400]);
    }
  }

  /* Waiting, a counter of the line open, and 3 people or fewer ahead. */
  function isClose() {
    return ticket.state === 'waiting' && ticket.line_open !== false
      && typeof ticket.waiting_ahead === 'number' && ticket.waiting_ahead <= CLOSE_AHEAD;
  }

  function closeText() {
    return t('ticket.close', { count: ticket.waiting_ahead });
  }

  /* Once, when the visitor's turn comes close: a vibration (where the browser allows it,
   * after a first touch) and a system notification (where the visitor allowed them). */
  function alertClose() {
    if (closeAlerted || !isClose()) return;
    closeAlerted = true;
    var activation = navigator.userActivation;
    if (navigator.vibrate && (!activation || activation.hasBeenActive)) navigator.vibrate(600);
    if (window.Notification && Notification.permission === 'granted') {
      try {
        new Notification(t('ticket.close_title') + ' · ' + ticket.number,
          { body: closeText(), tag: 'yihao-close-' + config.ticketId });
      } catch (error) { /* Android Chrome allows them only from a service worker */ }
    }
  }

  function apply(update, seq) {
    if (typeof seq === 'number') {
      if (seq < lastSeq) return;  // an older look than the one shown
      lastSeq = seq;
    }
    var previous = ticket.state + '|' + ticket.counter;
    var next = {};
    Object.keys(ticket).forEach(function (key) { next[key] = ticket[key]; });
    Object.keys(update).forEach(function (key) {
      if (key !== 'seq' && key !== 'id' && key !== 'status_url') next[key] = update[key];
    });
    if (next.state !== 'held') {
      next.held_at_counter = null;
      next.hold_reason = null;
    }
    var wasHeld = ticket.state === 'held';
    ticket = next;
    if (ticket.state === 'called' && previous !== ticket.state + '|' + ticket.counter) alertCalled();
    if (ticket.state !== 'waiting') closeAlerted = false;  // a later step may come close again
    alertClose();
    render();
    // The live payload is short: whether the hold is kept at one counter comes with the
    // full ticket.
    if (ticket.state === 'held' && !wasHeld && !('held_at_counter' in update)) refresh();
  }

  function refresh() {
    fetch('/api/v1/tickets/' + encodeURIComponent(config.ticketId),
      { headers: { 'Accept-Language': config.lang } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && body.ticket) apply(body.ticket); })
      .catch(function () {});
  }

  function errorMessage(body) {
    var error = body && body.error;
    if (!error) return t('error.failed');
    if (config.lang !== 'zh' && Y.has('error.' + error.code)) return t('error.' + error.code);
    return error.message || t('error.failed');
  }

  function act(action) {
    if (busy) return;
    busy = true;
    errorText = '';
    render();
    fetch('/api/v1/tickets/' + encodeURIComponent(config.ticketId) + '/' + action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': config.lang },
      body: '{}'
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        busy = false;
        confirming = false;
        confirmingReturn = false;
        if (response.ok && body && body.ticket) {
          apply(body.ticket);
        } else {
          errorText = errorMessage(body);
          render();
        }
      });
    }).catch(function () {
      busy = false;
      errorText = t('error.failed');
      render();
    });
  }

  function poll() {
    if (document.body.getAttribute('data-online') !== 'true') refresh();
  }

  function start() {
    if (!window.io) return;
    var socket = Y.connect('/ticket', { auth: { ticket: config.ticketId } });
    socket.on('snapshot', function (payload) {
      apply(payload, payload.seq);
      document.body.setAttribute('data-synced', 'true');
    });
    socket.on('disconnect', function () { document.body.setAttribute('data-synced', 'false'); });
    socket.on('ticket', function (payload) { apply(payload, payload.seq); });
  }

  closeAlerted = isClose();  // opened already close: the banner says it, no buzz
  render();
  setInterval(render, RECHECK_MS);
  setInterval(poll, POLL_MS);
  if (window.io) start();
  else document.addEventListener('DOMContentLoaded', start);
}());
