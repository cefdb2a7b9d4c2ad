/* Shared by the public pages: the page's configuration and strings, small formatters, and
 * the live connection that resyncs from `snapshot` after every (re)connect.
 *
 * Rules kept here so every screen follows them:
 * - a `snapshot` replaces the page's state;
 * - a `call` whose seq is not above the snapshot's seq is already in that snapshot: ignored;
 * - a call is shown and announced once (keyed by number, counter, time and recall);
 * - calls made while the screen was offline arrive in the next snapshot's `recent`: those
 *   still waiting for their visitor are announced then, the others only shown.
 */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('page-config').textContent);
  var strings = config.strings || {};
  var names = config.names || {};

  function has(key) {
    return Object.prototype.hasOwnProperty.call(strings, key);
  }

  /* A string of the page's table; one with a plural is {one, other}, chosen by the first
     number among vars. */
  function t(key, vars) {
    var text = has(key) ? strings[key] : key;
    if (typeof text === 'object') {
      var count = null;
      Object.keys(vars || {}).forEach(function (name) {
        if (count === null && typeof vars[name] === 'number') count = vars[name];
      });
      text = count === 1 ? text.one : text.other;
    }
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, function (match, name) {
        var value = vars[name];
        return value === null || value === undefined ? '' : String(value);
      });
    }
    return text;
  }

  /* "5号窗口" / "三楼10号窗口" (prefix "ticket.place" for the phone's spaced form). */
  function place(counter, location, prefix) {
    prefix = prefix || 'place';
    if (location) location = name('locations', counter, location);
    return location ? t(prefix + '.at', { counter: counter, location: location })
      : t(prefix, { counter: counter });
  }

  /* A line's, business's or counter's name (or a counter's location) in the page's language:
     English pages carry the hall file's English names; live messages carry the Chinese. */
  function name(kind, code, fallback) {
    var table = names[kind] || {};
    var key = String(code);
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : fallback;
  }

  function reasonLabel(reason) {
    return reason && has('reason.' + reason) ? t('reason.' + reason) : '';
  }

  /* The server's `text` is the Chinese sentence; English pages build their own. */
  function callText(call) {
    if (config.lang === 'zh' && call.text) return call.text;
    return t('call.text', { number: call.number, place: place(call.counter, call.location) });
  }

  function minutes(seconds) {
    if (!seconds) return t('minutes.none');
    return t('minutes', { minutes: Math.max(1, Math.ceil(seconds / 60)) });
  }

  /* "HH:MM" of an ISO time in the site's own offset, as the server wrote it. */
  function clockTime(iso) {
    return typeof iso === 'string' && iso.length >= 16 ? iso.substr(11, 5) : '';
  }

  function setOnline(online) {
    document.body.setAttribute('data-online', online ? 'true' : 'false');
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* A flash: the node lit half a second (`data-lit`, screens.css), plain half a second,
   * `times` times. One timer drives every flash of the page, so they all change on the
   * same tick: the page is redrawn twice a second while anything flashes. A CSS animation,
   * even in steps, had Blink restyle the flashing nodes at every frame, sixty a second, as
   * long as it ran: at a busy hall, all the time (docs/PERFORMANCE.md, run M). */
  var FLASH_HALF_MS = 500;
  var flashes = [];  // {node, half: halves shown so far, halves: in all, litAt: its start}
  var flashTimer = null;

  function setLit(node, lit) {
    if (lit) node.setAttribute('data-lit', '');
    else node.removeAttribute('data-lit');
  }

  function flashTick() {
    var now = Date.now();
    flashes = flashes.filter(function (flash) {
      // Lit just before this tick: it keeps the light a whole tick more, never a glimpse.
      if (flash.half === 0 && now - flash.litAt < FLASH_HALF_MS / 2) return true;
      flash.half += 1;
      var going = flash.half < flash.halves;
      setLit(flash.node, going && flash.half % 2 === 0);
      return going;
    });
    if (!flashes.length) {
      clearInterval(flashTimer);
      flashTimer = null;
    }
  }

  /* Start a node's flash again from its first light (a new call at the same counter). */
  function restartFlash(node, times) {
    stopFlash(node);
    flashes.push({ node: node, half: 0, halves: 2 * times, litAt: Date.now() });
    setLit(node, true);
    if (flashTimer === null) flashTimer = setInterval(flashTick, FLASH_HALF_MS);
  }

  function stopFlash(node) {
    flashes = flashes.filter(function (flash) { return flash.node !== node; });
    setLit(node, false);
  }

  function startClock(dateNode, timeNode) {
    var zone = config.timezone;
    var locale = config.lang === 'en' ? 'en-GB' : 'zh-CN';
    var dateFormat, timeFormat;
    try {
      dateFormat = new Intl.DateTimeFormat(locale, {
        timeZone: zone, year: 'numeric', month: 'long', day: 'numeric', weekday: 'long'
      });
      timeFormat = new Intl.DateTimeFormat(locale, {
        timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false
      });
    } catch (error) {  // an old browser without time zones: the PC's own clock
      dateFormat = new Intl.DateTimeFormat(locale, {
        year: 'numeric', month: 'long', day: 'numeric', weekday: 'long'
      });
      timeFormat = new Intl.DateTimeFormat(locale, {
        hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false
      });
    }
    function tick() {
      var now = new Date();
      if (dateNode) dateNode.textContent = dateFormat.format(now);
      if (timeNode) timeNode.textContent = timeFormat.format(now);
    }
    tick();
    setInterval(tick, 1000);
  }

  /* A Socket.IO connection over WebSocket that keeps trying, with the offline mark. */
  function connect(namespace, options) {
    var socket = window.io(namespace, {
      transports: ['websocket'],
      query: options.query || {},
      auth: options.auth || {},
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0.5,
      timeout: 10000
    });
    var retry = null;
    function retryLater() {
      // The client gives up by itself when the server refused us; we do not.
      if (retry) return;
      retry = setTimeout(function () {
        retry = null;
        if (!socket.connected) socket.connect();
      }, 4000 + Math.random() * 4000);
    }
    socket.on('connect', function () { setOnline(true); });
    socket.on('disconnect', function (reason) {
      setOnline(false);
      if (reason === 'io server disconnect') retryLater();
    });
    socket.on('connect_error', function () {
      setOnline(false);
      if (!socket.active) retryLater();
    });
    api.socket = socket;  // for a technician's console (and the tests)
    return socket;
  }

  function callKey(call) {
    return [call.number, call.counter, call.at, call.recall ? 'r' : 'c'].join('|');
  }

  /* The `/display` feed. handlers: snapshot(snap, {first, missed}), call, counter, queues,
   * evaluate, notice. Messages that arrive before the snapshot of a (re)connect wait for it. */
  function displayFeed(handlers) {
    var snapshotSeq = -1;
    var synced = false;
    var first = true;
    var pending = [];
    var known = {};
    var knownOrder = [];

    function remember(key) {
      if (known[key]) return false;
      known[key] = true;
      knownOrder.push(key);
      if (knownOrder.length > 500) delete known[knownOrder.shift()];
      return true;
    }

    function deliver(name, message) {
      if (!synced) {
        pending.push([name, message]);
        return;
      }
      if (name === 'call') {
        if (typeof message.seq === 'number' && message.seq <= snapshotSeq) return;
        if (!remember(callKey(message))) return;
      } else if (typeof message.seq === 'number' && message.seq < snapshotSeq) {
        return;  // older than what the snapshot already shows
      }
      if (handlers[name]) handlers[name](message);
    }

    var socket = connect('/display', { query: { site: config.site || '' } });
    socket.on('disconnect', function () { synced = false; });
    socket.on('snapshot', function (snap) {
      snapshotSeq = typeof snap.seq === 'number' ? snap.seq : -1;
      var current = {};
      (snap.calls || []).forEach(function (call) {
        if (call.state === 'called') current[call.counter + '|' + call.number] = true;
      });
      var missed = [];
      var missedNumbers = {};
      (snap.recent || []).slice().reverse().forEach(function (call) {
        var fresh = remember(callKey(call));
        var id = call.counter + '|' + call.number;
        if (fresh && !first && current[id] && !missedNumbers[id]) {
          missedNumbers[id] = true;
          missed.push(call);
        }
      });
      document.body.setAttribute('data-seq', String(snapshotSeq));
      if (handlers.snapshot) handlers.snapshot(snap, { first: first, missed: missed });
      first = false;
      synced = true;
      var waiting = pending;
      pending = [];
      waiting.forEach(function (item) { deliver(item[0], item[1]); });
      document.body.setAttribute('data-synced', 'true');
    });
    ['call', 'counter', 'queues', 'evaluate', 'notice'].forEach(function (name) {
      socket.on(name, function (message) { deliver(name, message); });
    });
    socket.on('disconnect', function () { document.body.setAttribute('data-synced', 'false'); });
    return socket;
  }

  var api = window.Yihao = {
    config: config,
    t: t,
    has: has,
    place: place,
    name: name,
    reasonLabel: reasonLabel,
    callText: callText,
    minutes: minutes,
    clockTime: clockTime,
    element: element,
    restartFlash: restartFlash,
    stopFlash: stopFlash,
    setOnline: setOnline,
    startClock: startClock,
    connect: connect,
    displayFeed: displayFeed,
    socket: null
  };
}());
