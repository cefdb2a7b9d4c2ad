/* The hall screen (综合屏): every open counter's current call, the last ten calls, the
 * lines, the notice; each new call flashes and is announced. Numbers only: no ticket ids,
 * no names, nothing personal ever reaches this page. */
(function () {
  'use strict';

  var Y = window.Yihao;
  var t = Y.t;
  var config = Y.config;
  var FLASH_MS = 8000;
  var BANNER_MS = 12000;
  var RECENT = 10;

  var nodes = {
    siteName: document.getElementById('site-name'),
    banner: document.getElementById('banner'),
    bannerText: document.getElementById('banner-text'),
    bannerBadge: document.getElementById('banner-badge'),
    cards: document.getElementById('cards'),
    noCounters: document.getElementById('no-counters'),
    recent: document.getElementById('recent'),
    noCalls: document.getElementById('no-calls'),
    queues: document.getElementById('queues'),
    noticeBar: document.getElementById('notice-bar'),
    notice: document.getElementById('notice'),
    soundButton: document.getElementById('sound-button')
  };

  var state = { counters: {}, calls: {}, recent: [], queues: [] };
  var cardNodes = {};
  var flashTimers = {};
  var bannerTimer = null;

  var announcer = window.YihaoAnnouncer.forScreen(config.sound, nodes.soundButton);

  Y.startClock(document.getElementById('date'), document.getElementById('time'));

  function badgeText(call) {
    var label = Y.reasonLabel(call.reason);
    if (call.recall) label = label ? t('recall') + ' · ' + label : t('recall');
    return label;
  }

  function setBadge(node, call) {
    var label = call ? badgeText(call) : '';
    node.textContent = label;
    node.hidden = !label;
    node.setAttribute('data-reason', call && call.reason ? call.reason : '');
  }

  /* -- current call per counter ------------------------------------------------------- */
  function visibleCounters() {
    return Object.keys(state.counters)
      .map(function (key) { return state.counters[key]; })
      .filter(function (counter) { return counter.state === 'open' || counter.state === 'paused'; })
      .sort(function (a, b) { return a.counter - b.counter; });
  }

  function makeCard(counter) {
    var card = Y.element('article', 'card');
    card.setAttribute('data-counter', String(counter.counter));
    card.appendChild(Y.element('div', 'card-number'));
    card.appendChild(Y.element('div', 'card-place'));
    card.appendChild(Y.element('div', 'card-name'));
    var badge = Y.element('span', 'badge');
    badge.hidden = true;
    card.appendChild(badge);
    return card;
  }

  function renderCards() {
    var counters = visibleCounters();
    var wanted = {};
    counters.forEach(function (counter, index) {
      wanted[counter.counter] = true;
      var card = cardNodes[counter.counter];
      if (!card) {
        card = cardNodes[counter.counter] = makeCard(counter);
      }
      if (nodes.cards.children[index] !== card) {
        nodes.cards.insertBefore(card, nodes.cards.children[index] || null);
      }
      var call = state.calls[counter.counter];
      var current = counter.state === 'open' ? counter.current : null;
      card.setAttribute('data-state', counter.state);
      card.setAttribute('data-number', current || '');
      // A counter with no one at it says so in words (空闲 / 暂停服务), never a bare bar.
      card.querySelector('.card-number').textContent = counter.state === 'paused'
        ? t('hall.paused') : (current || t('hall.free'));
      card.querySelector('.card-place').textContent = Y.place(counter.counter, counter.location);
      card.querySelector('.card-name').textContent = current ? '' : (Y.name('counters', counter.counter, counter.counter_name) || '');
      card.querySelector('.card-name').hidden = Boolean(current);
      setBadge(card.querySelector('.badge'), current && call && call.number === current ? call : null);
      card.classList.toggle('idle', !current);
    });
    Object.keys(cardNodes).forEach(function (number) {
      if (!wanted[number]) {
        cardNodes[number].remove();
        delete cardNodes[number];
      }
    });
    var count = counters.length;
    var rows = count <= 3 ? 1 : (count <= 10 ? 2 : (count <= 15 ? 3 : 4));
    var columns = Math.max(1, Math.ceil(count / rows));
    nodes.cards.style.setProperty('--rows', String(rows));
    nodes.cards.style.setProperty('--cols', String(columns));
    nodes.noCounters.hidden = count > 0;
  }

  function flashCard(counterNumber) {
    var card = cardNodes[counterNumber];
    if (!card) return;
    card.classList.remove('flash');
    void card.offsetWidth;  // restart the animation
    card.classList.add('flash');
    clearTimeout(flashTimers[counterNumber]);
    flashTimers[counterNumber] = setTimeout(function () { card.classList.remove('flash'); }, FLASH_MS);
  }

  /* -- recent calls, lines, notice ----------------------------------------------------- */
  function renderRecent() {
    nodes.recent.textContent = '';
    state.recent.slice(0, RECENT).forEach(function (call) {
      var item = Y.element('li', 'recent-item');
      item.setAttribute('data-number', call.number);
      item.setAttribute('data-counter', String(call.counter));
      item.appendChild(Y.element('span', 'recent-number', call.number));
      item.appendChild(Y.element('span', 'recent-place', Y.place(call.counter, call.location)));
      item.appendChild(Y.element('span', 'recent-time', Y.clockTime(call.at)));
      var badge = Y.element('span', 'badge');  // on its own row, under the place
      setBadge(badge, call);
      item.appendChild(badge);
      nodes.recent.appendChild(item);
    });
    nodes.noCalls.hidden = state.recent.length > 0;
  }

  function renderQueues() {
    nodes.queues.textContent = '';
    state.queues.forEach(function (queue) {
      var row = Y.element('tr');
      row.setAttribute('data-queue', queue.code);
      var name = Y.element('td', 'line-name');
      name.appendChild(Y.element('span', 'line-code', queue.code));
      name.appendChild(document.createTextNode(Y.name('queues', queue.code, queue.name)));
      row.appendChild(name);
      row.appendChild(Y.element('td', 'line-waiting', t('hall.people', { count: queue.waiting })));
      row.appendChild(Y.element('td', 'line-estimate',
        // No estimate while no counter of the line is open: never "无需等待" to a waiting line.
        !queue.waiting ? t('minutes.none')
          : queue.est_wait_s === null ? t('minutes.no_counter') : Y.minutes(queue.est_wait_s)));
      nodes.queues.appendChild(row);
    });
  }

  function renderNotice(text) {
    nodes.notice.textContent = text || '';
    nodes.noticeBar.hidden = !text;
    // Scroll at a steady reading speed whatever the notice's length.
    var seconds = Math.max(15, Math.round((text || '').length * 0.45));
    nodes.notice.style.animationDuration = seconds + 's';
  }

  /* -- a call ------------------------------------------------------------------------- */
  function showBanner(call) {
    nodes.bannerText.textContent = Y.callText(call);
    setBadge(nodes.bannerBadge, call);
    nodes.banner.setAttribute('data-number', call.number);
    nodes.banner.setAttribute('data-active', 'true');
    nodes.banner.classList.remove('flash');
    void nodes.banner.offsetWidth;
    nodes.banner.classList.add('flash');
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(idleBanner, BANNER_MS);
  }

  function idleBanner() {
    nodes.banner.setAttribute('data-active', 'false');
    nodes.banner.setAttribute('data-number', '');
    nodes.banner.classList.remove('flash');
    nodes.bannerText.textContent = t('hall.listen');
    setBadge(nodes.bannerBadge, null);
  }

  function announce(call) {
    showBanner(call);
    flashCard(call.counter);
    announcer.enqueue({ speech: call.speech, text: call.text });
  }

  Y.displayFeed({
    snapshot: function (snap, info) {
      if (snap.site_name) {
        var siteName = config.lang === 'zh' ? snap.site_name : config.siteName;
        nodes.siteName.textContent = siteName;
        document.title = siteName + ' · ' + t('hall.title');
      }
      renderNotice(snap.notice);
      state.counters = {};
      (snap.counters || []).forEach(function (counter) { state.counters[counter.counter] = counter; });
      state.calls = {};
      (snap.calls || []).forEach(function (call) { state.calls[call.counter] = call; });
      state.recent = (snap.recent || []).slice(0, RECENT);
      state.queues = snap.queues || [];
      renderCards();
      renderRecent();
      renderQueues();
      info.missed.forEach(announce);
    },
    call: function (call) {
      var counter = state.counters[call.counter];
      if (!counter) {
        counter = state.counters[call.counter] = {
          counter: call.counter, counter_name: call.counter_name, location: call.location,
          state: 'open', current: null
        };
      }
      counter.current = call.number;
      counter.state = 'open';
      state.calls[call.counter] = call;
      state.recent.unshift(call);
      state.recent = state.recent.slice(0, RECENT);
      renderCards();
      renderRecent();
      announce(call);
    },
    counter: function (counter) {
      state.counters[counter.counter] = counter;
      var call = state.calls[counter.counter];
      if (call && call.number !== counter.current) delete state.calls[counter.counter];
      renderCards();
    },
    queues: function (message) {
      state.queues = message.queues || [];
      renderQueues();
    },
    // The admin saved a new notice (SPEC §5): the open screen shows it without a reload.
    notice: function (message) {
      renderNotice(message.text);
    }
  });
}());
