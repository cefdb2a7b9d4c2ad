/* The counter-top screen (窗口屏): this counter's number being served, its clerk, 暂停服务 /
 * 未开放; after a finish, the five 好差评 buttons until the visitor presses one, the counter
 * calls again, or the evaluation window passes. */
(function () {
  'use strict';

  var Y = window.Yihao;
  var t = Y.t;
  var config = Y.config;
  var number = config.counter;
  var FLASHES = 5;  // a call lights the number five times
  var THANKS_MS = 4000;
  var REASONS_MS = 30000;       // a low rating without a reason chosen is sent anyway
  var DEFAULT_WINDOW_MS = 120000;
  var MAX_WINDOW_MS = 600000;

  var nodes = {
    main: document.getElementById('counter-main'),
    serving: document.getElementById('serving'),
    currentNumber: document.getElementById('current-number'),
    currentBadge: document.getElementById('current-badge'),
    stateMessage: document.getElementById('state-message'),
    stateTitle: document.getElementById('state-title'),
    stateDetail: document.getElementById('state-detail'),
    clerk: document.getElementById('clerk'),
    clerkName: document.getElementById('clerk-name'),
    clerkNoBox: document.getElementById('clerk-no-box'),
    clerkNo: document.getElementById('clerk-no'),
    rating: document.getElementById('rating'),
    ratingButtons: document.getElementById('rating-buttons'),
    reasons: document.getElementById('rating-reasons'),
    reasonsSubmit: document.getElementById('reasons-submit'),
    reasonsSkip: document.getElementById('reasons-skip'),
    ratingMessage: document.getElementById('rating-message'),
    thanks: document.getElementById('thanks'),
    soundButton: document.getElementById('sound-button')
  };

  var state = {
    counter: {
      counter: number, counter_name: config.counterName, location: config.location,
      state: 'closed', clerk_name: null, clerk_no: null, current: null
    },
    call: null
  };
  var rating = { open: false, timer: null, reasonsTimer: null, chosen: null, sending: false };
  var thanksTimer = null;

  var announcer = window.YihaoAnnouncer.forScreen(config.sound, nodes.soundButton);

  Y.startClock(null, document.getElementById('time'));

  /* -- the counter ----------------------------------------------------------------------- */
  function render() {
    var counter = state.counter;
    var current = counter.state === 'open' ? counter.current : null;
    nodes.main.setAttribute('data-state', counter.state);
    nodes.main.setAttribute('data-number', current || '');
    nodes.serving.hidden = !current;
    nodes.stateMessage.hidden = Boolean(current);
    nodes.currentNumber.textContent = current || '';
    var call = state.call && state.call.number === current ? state.call : null;
    var label = call ? Y.reasonLabel(call.reason) : '';
    nodes.currentBadge.textContent = label;
    nodes.currentBadge.hidden = !label;
    // The reason's colour, as on the hall screen (绿色通道 green).
    nodes.currentBadge.setAttribute('data-reason', call && call.reason ? call.reason : '');
    if (counter.state === 'paused') {
      nodes.stateTitle.textContent = t('counter.paused');
      nodes.stateDetail.textContent = t('counter.paused_detail');
    } else if (counter.state === 'closed') {
      nodes.stateTitle.textContent = t('counter.closed');
      nodes.stateDetail.textContent = t('counter.closed_detail');
    } else {
      nodes.stateTitle.textContent = t('counter.welcome');
      nodes.stateDetail.textContent = t('counter.idle');
    }
    var signedIn = counter.state !== 'closed' && counter.clerk_name;
    nodes.clerk.hidden = !signedIn;
    nodes.clerkName.textContent = signedIn ? counter.clerk_name : '';
    nodes.clerkNoBox.hidden = !(signedIn && counter.clerk_no);
    nodes.clerkNo.textContent = signedIn && counter.clerk_no ? counter.clerk_no : '';
  }

  function flash() {
    Y.restartFlash(nodes.serving, FLASHES);
  }

  /* -- 好差评 ------------------------------------------------------------------------------ */
  function buttons() {
    return Array.prototype.slice.call(nodes.rating.querySelectorAll('button'));
  }

  function windowMs(until) {
    var left = until ? Date.parse(until) - Date.now() : NaN;
    // A screen whose clock is off still closes the buttons in time.
    return left > 0 && left <= MAX_WINDOW_MS ? left : DEFAULT_WINDOW_MS;
  }

  function openRating(until) {
    if (!config.rating) return;
    closeRating();
    rating.open = true;
    rating.chosen = null;
    rating.sending = false;
    buttons().forEach(function (button) {
      button.disabled = false;
      button.classList.remove('chosen');
      if (button.classList.contains('chip')) button.setAttribute('aria-pressed', 'false');
    });
    nodes.ratingButtons.hidden = false;
    nodes.reasons.hidden = true;
    nodes.ratingMessage.hidden = true;
    nodes.thanks.hidden = true;
    nodes.rating.hidden = false;
    rating.timer = setTimeout(closeRating, windowMs(until));
  }

  function closeRating() {
    rating.open = false;
    clearTimeout(rating.timer);
    clearTimeout(rating.reasonsTimer);
    nodes.rating.hidden = true;
  }

  function showThanks(text) {
    nodes.thanks.textContent = text;
    nodes.thanks.hidden = false;
    clearTimeout(thanksTimer);
    thanksTimer = setTimeout(function () { nodes.thanks.hidden = true; }, THANKS_MS);
  }

  function chosenReasons() {
    // Stored in Chinese whatever the screen's language: they are read by the hall's staff.
    return Array.prototype.slice.call(nodes.reasons.querySelectorAll('.chip[aria-pressed="true"]'))
      .map(function (chip) { return config.ratingReasons[chip.getAttribute('data-reason')]; })
      .filter(Boolean);
  }

  function send(value, reasons) {
    if (rating.sending) return;
    rating.sending = true;
    clearTimeout(rating.reasonsTimer);
    buttons().forEach(function (button) { button.disabled = true; });
    var url = '/api/v1/counters/' + number + '/rating?site=' + encodeURIComponent(config.site);
    fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': config.lang },
      body: JSON.stringify({ rating: value, reasons: reasons })
    }).then(function (response) {
      if (response.status === 201) {
        closeRating();
        showThanks(t('rating.thanks'));
      } else if (response.status === 409) {
        closeRating();
        showThanks(t('rating.closed'));
      } else {
        throw new Error('rating: HTTP ' + response.status);
      }
    }).catch(function () {
      // Not stored: let the visitor press again while the window lasts.
      rating.sending = false;
      rating.chosen = null;
      buttons().forEach(function (button) { button.disabled = false; });
      nodes.ratingButtons.hidden = false;
      nodes.reasons.hidden = true;
      nodes.ratingMessage.textContent = t('rating.failed');
      nodes.ratingMessage.hidden = false;
    });
  }

  nodes.ratingButtons.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-rating]');
    if (!button || !rating.open || rating.chosen !== null) return;
    var value = Number(button.getAttribute('data-rating'));
    rating.chosen = value;
    button.classList.add('chosen');
    nodes.ratingMessage.hidden = true;
    if (value <= 2) {
      nodes.ratingButtons.hidden = true;
      nodes.reasons.hidden = false;
      rating.reasonsTimer = setTimeout(function () { send(value, chosenReasons()); }, REASONS_MS);
    } else {
      send(value, []);
    }
  });
  nodes.reasons.addEventListener('click', function (event) {
    var chip = event.target.closest('.chip');
    if (chip) {
      chip.setAttribute('aria-pressed', chip.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
    }
  });
  nodes.reasonsSubmit.addEventListener('click', function () {
    if (rating.chosen !== null) send(rating.chosen, chosenReasons());
  });
  nodes.reasonsSkip.addEventListener('click', function () {
    if (rating.chosen !== null) send(rating.chosen, []);
  });

  /* -- live ------------------------------------------------------------------------------ */
  Y.displayFeed({
    snapshot: function (snap, info) {
      (snap.counters || []).forEach(function (counter) {
        if (counter.counter === number) state.counter = counter;
      });
      state.call = null;
      (snap.calls || []).forEach(function (call) {
        if (call.counter === number) state.call = call;
      });
      // The snapshot does not say whether an evaluation is open: keep ours unless the
      // counter has called again meanwhile.
      if (state.counter.current) closeRating();
      render();
      info.missed.forEach(function (call) {
        if (call.counter !== number) return;
        flash();
        announcer.enqueue({ speech: call.speech, text: call.text });
      });
    },
    call: function (call) {
      if (call.counter !== number) return;
      state.counter.current = call.number;
      state.counter.state = 'open';
      state.call = call;
      closeRating();
      nodes.thanks.hidden = true;  // the next visitor is called: show the number
      render();
      flash();
      announcer.enqueue({ speech: call.speech, text: call.text });
    },
    counter: function (counter) {
      if (counter.counter !== number) return;
      state.counter = counter;
      if (state.call && state.call.number !== counter.current) state.call = null;
      render();
    },
    evaluate: function (message) {
      if (message.counter !== number) return;
      if (message.open) openRating(message.until);
      else closeRating();
    }
  });

  render();
}());
