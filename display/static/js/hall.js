/* The hall screen (综合屏): every open counter's current call, the last ten calls, the
 * lines, the notice; each new call flashes and is announced. Numbers only: no ticket ids,
 * no names, nothing personal ever reaches this page. */
(function () {
  'use strict';

  var Y = window.Yihao;
  var t = Y.t;
  var config = Y.config;
  var CARD_FLASHES = 6;  // a called counter's card lights six times
  var BANNER_FLASHES = 4;
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
    soundButton: document.getElementById('sound-button'),
    hours: document.getElementById('hours'),
    hoursToday: document.getElementById('hours-today'),
    hoursNext: document.getElementById('hours-next')
  };

  var state = { counters: {}, calls: {}, recent: [], queues: [] };
  var cards = {};  // counter -> its card: {node, number, place, name, badge}
  var bannerTimer = null;

  var announcer = window.YihaoAnnouncer.forScreen(config.sound, nodes.soundButton);

  Y.startClock(document.getElementById('date'), document.getElementById('time'));

  function badgeText(call) {
    var label = Y.reasonLabel(call.reason);
    if (call.recall) label = label ? t('recall') + ' · ' + label : t('recall');
    return label;
  }

  /* A screen redraws what changed: writes that would not change the page are skipped, so a
   * call relays out and repaints one card, not all of them (docs/screens.md). */
  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setAttr(node, name, value) {
    if (node.getAttribute(name) !== value) node.setAttribute(name, value);
  }

  function setHidden(node, hidden) {
    if (node.hidden !== hidden) node.hidden = hidden;
  }

  function setVar(node, name, value) {
    if (node.style.getPropertyValue(name) !== value) node.style.setProperty(name, value);
  }

  function setBadge(node, call) {
    var label = call ? badgeText(call) : '';
    setText(node, label);
    setHidden(node, !label);
    setAttr(node, 'data-reason', call && call.reason ? call.reason : '');
  }

  /* -- current call per counter ------------------------------------------------------- */
  function visibleCounters() {
    return Object.keys(state.counters)
      .map(function (key) { return state.counters[key]; })
      .filter(function (counter) { return counter.state === 'open' || counter.state === 'paused'; })
      .sort(function (a, b) { return a.counter - b.counter; });
  }

  function makeCard(counter) {
    var card = {
      node: Y.element('article', 'card'),
      number: Y.element('div', 'card-number'),
      place: Y.element('div', 'card-place'),
      name: Y.element('div', 'card-name'),
      badge: Y.element('span', 'badge')
    };
    card.node.setAttribute('data-counter', String(counter.counter));
    card.badge.hidden = true;
    [card.number, card.place, card.name, card.badge].forEach(function (part) {
      card.node.appendChild(part);
    });
    return card;
  }

  function renderCards() {
    var counters = visibleCounters();
    var wanted = {};
    counters.forEach(function (counter, index) {
      wanted[counter.counter] = true;
      var card = cards[counter.counter] || (cards[counter.counter] = makeCard(counter));
      if (nodes.cards.children[index] !== card.node) {
        nodes.cards.insertBefore(card.node, nodes.cards.children[index] || null);
      }
      var call = state.calls[counter.counter];
      var current = counter.state === 'open' ? counter.current : null;
      // Every card is written on every call, but only what differs reaches the page: one
      // rewritten text would lay out and repaint its card again (docs/screens.md).
      setAttr(card.node, 'data-state', counter.state);
      setAttr(card.node, 'data-number', current || '');
      // A counter with no one at it says so in words (空闲 / 暂停服务), never a bare bar.
      setText(card.number, counter.state === 'paused' ? t('hall.paused') : (current || t('hall.free')));
      setText(card.place, Y.place(counter.counter, counter.location));
      setText(card.name, current ? '' : (Y.name('counters', counter.counter, counter.counter_name) || ''));
      setHidden(card.name, Boolean(current));
      setBadge(card.badge, current && call && call.number === current ? call : null);
      card.node.classList.toggle('idle', !current);  // forced: no change, no write
    });
    Object.keys(cards).forEach(function (number) {
      if (!wanted[number]) {
        cards[number].node.remove();
        delete cards[number];
      }
    });
    var count = counters.length;
    var rows = count <= 3 ? 1 : (count <= 10 ? 2 : (count <= 15 ? 3 : 4));
    var columns = Math.max(1, Math.ceil(count / rows));
    setVar(nodes.cards, '--rows', String(rows));
    setVar(nodes.cards, '--cols', String(columns));
    setHidden(nodes.noCounters, count > 0);
  }

  function flashCard(counterNumber) {
    var card = cards[counterNumber];
    if (card) Y.restartFlash(card.node, CARD_FLASHES);
  }

  /* -- recent calls, lines, notice ----------------------------------------------------- */
  function recentItem(call) {
    var item = Y.element('li', 'recent-item');
    item.setAttribute('data-number', call.number);
    item.setAttribute('data-counter', String(call.counter));
    item.appendChild(Y.element('span', 'recent-number', call.number));
    item.appendChild(Y.element('span', 'recent-place', Y.place(call.counter, call.location)));
    item.appendChild(Y.element('span', 'recent-time', Y.clockTime(call.at)));
    var badge = Y.element('span', 'badge');  // on its own row, under the place
    setBadge(badge, call);
    item.appendChild(badge);
    return item;
  }

  function renderRecent() {
    nodes.recent.textContent = '';
    state.recent.slice(0, RECENT).forEach(function (call) {
      nodes.recent.appendChild(recentItem(call));
    });
    setHidden(nodes.noCalls, state.recent.length > 0);
  }

  /* A new call: its row on top, the oldest out; the other rows are left as they are. */
  function addRecent(call) {
    nodes.recent.insertBefore(recentItem(call), nodes.recent.firstChild);
    while (nodes.recent.children.length > RECENT) nodes.recent.lastChild.remove();
    setHidden(nodes.noCalls, true);
  }

  /* The lines' table: a row a line, kept and rewritten in place, so a new count repaints
   * its own cell, not the table (the counts come a few times a second at a busy hall). */
  function queueRow(code) {
    var row = Y.element('tr');
    row.setAttribute('data-queue', code);
    var name = Y.element('td', 'line-name');
    name.appendChild(Y.element('span', 'line-code', code));
    name.appendChild(document.createTextNode(''));
    row.appendChild(name);
    row.appendChild(Y.element('td', 'line-waiting'));
    row.appendChild(Y.element('td', 'line-estimate'));
    return row;
  }

  function renderQueues() {
    var rows = {};
    Array.prototype.forEach.call(nodes.queues.children, function (row) {
      rows[row.getAttribute('data-queue')] = row;
    });
    state.queues.forEach(function (queue, index) {
      var row = rows[queue.code] || queueRow(queue.code);
      delete rows[queue.code];
      if (nodes.queues.children[index] !== row) {
        nodes.queues.insertBefore(row, nodes.queues.children[index] || null);
      }
      var nameText = row.firstChild.lastChild;
      var label = Y.name('queues', queue.code, queue.name);
      if (nameText.data !== label) nameText.data = label;
      setText(row.children[1], t('hall.people', { count: queue.waiting }));
      setText(row.children[2],
        // No estimate while no counter of the line is open: never "无需等待" to a waiting line.
        !queue.waiting ? t('minutes.none')
          : queue.est_wait_s === null ? t('minutes.no_counter') : Y.minutes(queue.est_wait_s));
    });
    Object.keys(rows).forEach(function (code) { rows[code].remove(); });
  }

  function renderNotice(text) {
    setText(nodes.notice, text || '');
    setHidden(nodes.noticeBar, !text);
    fitNotice();
  }

  /* A notice that fits the bar stands still, where it reads best; a longer one scrolls, at
   * a steady reading speed whatever its length. A scroll is drawn anew every frame, sixty a
   * second: with Chromium's software rendering 0.03 of a core a screen, for as long as the
   * page is open (docs/PERFORMANCE.md, run M). Measured when the notice or the window
   * changes: a forced layout then, never on a call. */
  function fitNotice() {
    nodes.notice.classList.add('still');
    var fits = nodes.notice.offsetWidth <= nodes.notice.parentNode.clientWidth;
    if (fits) return;
    var seconds = Math.max(15, Math.round(nodes.notice.textContent.length * 0.45));
    nodes.notice.style.animationDuration = seconds + 's';
    nodes.notice.classList.remove('still');
  }

  window.addEventListener('resize', fitNotice);

  /* -- today's hours in the header ------------------------------------------------------ */
  function dayOf(date) {
    // YYYY-MM-DD of a moment in the hall's own time zone.
    try {
      return new Intl.DateTimeFormat('en-CA', { timeZone: config.timezone }).format(date);
    } catch (error) {
      return date.toISOString().substr(0, 10);
    }
  }

  /* The server's words are Chinese ("今天13:30", "12月1日（周一）08:30"); English builds its own. */
  function openingWords(hours) {
    if (config.lang === 'zh' && hours.next_opening_text) return hours.next_opening_text;
    var iso = hours.next_opening || '';
    var time = Y.clockTime(iso);
    if (iso.substr(0, 10) === dayOf(new Date())) return t('hall.today_at', { time: time });
    var parts = iso.substr(0, 10).split('-');
    var day = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2], 12));
    var words = iso.substr(0, 10);
    try {
      words = new Intl.DateTimeFormat(config.lang === 'en' ? 'en-GB' : 'zh-CN', {
        timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short'
      }).format(day);
    } catch (error) { /* keep the ISO date */ }
    return words + ' ' + time;
  }

  function renderHours(hours) {
    if (!hours) { nodes.hours.hidden = true; return; }
    nodes.hours.hidden = false;
    var today = hours.today || [];
    var text;
    if (!today.length) {
      text = t('hall.closed_today');
    } else if (today.length === 1 && today[0][0] === '00:00' && today[0][1] === '24:00') {
      text = t('hall.all_day');
    } else {
      text = t('hall.hours', {
        hours: today.map(function (pair) { return pair[0] + '\u2013' + pair[1]; }).join(' ')
      });
    }
    nodes.hoursToday.textContent = text;
    nodes.hours.setAttribute('data-open', hours.open ? 'true' : 'false');
    var next = !hours.open && hours.next_opening;
    nodes.hoursNext.hidden = !next;
    nodes.hoursNext.textContent = next ? t('hall.next_opening', { when: openingWords(hours) }) : '';
  }

  /* -- a call ------------------------------------------------------------------------- */
  function showBanner(call) {
    nodes.bannerText.textContent = Y.callText(call);
    setBadge(nodes.bannerBadge, call);
    nodes.banner.setAttribute('data-number', call.number);
    nodes.banner.setAttribute('data-active', 'true');
    Y.restartFlash(nodes.banner, BANNER_FLASHES);
    clearTimeout(bannerTimer);
    bannerTimer = setTimeout(idleBanner, BANNER_MS);
  }

  function idleBanner() {
    nodes.banner.setAttribute('data-active', 'false');
    nodes.banner.setAttribute('data-number', '');
    Y.stopFlash(nodes.banner);
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
      renderHours(snap.hours);
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
      addRecent(call);
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
