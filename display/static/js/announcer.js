/* The hall's voice: one call at a time, never two talking over each other.
 *
 * Each call: a chime (Web Audio), then the server's `speech` text through the browser's
 * speech synthesis in zh-CN, `repeat` times. Where no Chinese voice is installed, the
 * server's prerecorded clips (display/static/voice/, made by `python -m display.make_voice`)
 * are played in order instead: 请 · A · 零 · 二 · 三 · 号 · 到 · 三楼 · 10 · 号 · 窗口办理.
 * With ?voice=0 or repeat 0, the chime alone. Browsers block sound until a user gesture unless
 * started with --autoplay-policy=no-user-gesture-required: then onBlockedChange(true) lets
 * the page show its "点击开启声音" button, and unlock() (from that click) resumes.
 *
 * window.yihaoSpeech is a small log for tests and for a technician with the console open:
 *   queued: [speech text, ...] in the order calls arrived;
 *   played: [{speech, text, mode: 'voice' | 'clips' | 'chime', times, clips, start, end}, ...];
 *   clips: the URLs of every clip played, in the order played;
 *   clipsReady: true once every clip is loaded (the screen then needs no fetch to speak);
 *   blocked: whether sound is waiting for a gesture.
 */
(function () {
  'use strict';

  var CHIME_MS = 1300;
  var GAP_MS = 600;
  var STALE_MS = 90000;   // a call older than this when its turn comes is not announced
  var MAX_BACKLOG = 8;

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function Announcer(options) {
    options = options || {};
    this.enabled = options.enabled !== false;
    this.repeat = typeof options.repeat === 'number' ? options.repeat : 2;
    this.voiceWanted = options.voice !== false && this.repeat > 0;
    this.rate = options.rate || 0.9;
    this.clipsUrl = options.clips || null;  // the manifest of the offline voice's clips
    this.clips = null;                      // {base: URL of the folder, files: {piece: file}}
    this.clipKeys = [];
    this.buffers = {};
    this.onBlockedChange = options.onBlockedChange || function () {};
    this.queue = [];
    this.busy = false;
    this.blocked = false;
    this.context = null;
    this.log = { queued: [], played: [], clips: [], blocked: false, enabled: this.enabled };
    window.yihaoSpeech = this.log;
    if (!this.enabled) return;
    this.startAudio();
    if (this.voiceWanted && 'speechSynthesis' in window) {
      window.speechSynthesis.getVoices();  // voices load lazily in Chrome
    }
    if (this.voiceWanted && this.clipsUrl && this.context) {
      // Loaded while the server is there: a call announced while it restarts needs no fetch.
      var self = this;
      this.loadClips().then(function (clips) {
        if (!clips) return;
        return Promise.all(Object.keys(clips.files).map(function (key) {
          return self.buffer(clips.base + clips.files[key]);
        })).then(function () { self.log.clipsReady = true; });
      });
    }
  }

  Announcer.prototype.startAudio = function () {
    var AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass) return;
    try {
      this.context = new AudioContextClass();
    } catch (error) {
      this.context = null;
      return;
    }
    var self = this;
    if (this.context.state !== 'running') {
      this.context.resume().catch(function () {});
      setTimeout(function () {
        if (self.context.state !== 'running') self.setBlocked(true);
      }, 400);
    }
  };

  Announcer.prototype.setBlocked = function (blocked) {
    if (this.blocked === blocked) return;
    this.blocked = blocked;
    this.log.blocked = blocked;
    this.onBlockedChange(blocked);
    if (!blocked) this.pump();
  };

  /* From a click: resume audio and wake speech synthesis, then play what waits. */
  Announcer.prototype.unlock = function () {
    var self = this;
    if (this.context && this.context.state !== 'running') {
      this.context.resume().catch(function () {});
    }
    if (this.voiceWanted && 'speechSynthesis' in window) {
      var wake = new SpeechSynthesisUtterance(' ');
      wake.volume = 0;
      window.speechSynthesis.speak(wake);
    }
    setTimeout(function () {
      if (!self.context || self.context.state === 'running') self.setBlocked(false);
    }, 100);
  };

  Announcer.prototype.enqueue = function (item) {
    this.log.queued.push(item.speech);
    if (!this.enabled) return;
    this.queue.push({ speech: item.speech, text: item.text, at: Date.now() });
    if (this.queue.length > MAX_BACKLOG) this.queue.splice(0, this.queue.length - MAX_BACKLOG);
    this.pump();
  };

  Announcer.prototype.chineseVoice = function () {
    if (!this.voiceWanted || !('speechSynthesis' in window)) return null;
    var voices = window.speechSynthesis.getVoices() || [];
    var pick = function (pattern) {
      for (var i = 0; i < voices.length; i += 1) {
        if (pattern.test(voices[i].lang)) return voices[i];
      }
      return null;
    };
    return pick(/^zh[-_]CN/i) || pick(/^(zh|cmn)([-_]Hans)?$/i) || pick(/^(zh|cmn)\b/i);
  };

  Announcer.prototype.chime = function () {
    var context = this.context;
    if (!context || context.state !== 'running') return sleep(GAP_MS);
    var start = context.currentTime + 0.05;
    [[659.25, 0], [523.25, 0.45]].forEach(function (tone) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start + tone[1]);
      gain.gain.exponentialRampToValueAtTime(0.4, start + tone[1] + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + tone[1] + 0.8);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(start + tone[1]);
      oscillator.stop(start + tone[1] + 0.85);
    });
    return sleep(CHIME_MS);
  };

  Announcer.prototype.say = function (text, voice) {
    var self = this;
    return new Promise(function (resolve) {
      var finished = false;
      var utterance = new SpeechSynthesisUtterance(text);
      var timer = setTimeout(function () {
        window.speechSynthesis.cancel();  // an engine that never says "end"
        finish();
      }, Math.max(6000, text.length * 700));
      function finish() {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve();
      }
      utterance.lang = 'zh-CN';
      utterance.voice = voice;
      utterance.rate = self.rate;
      utterance.onend = finish;
      utterance.onerror = function (event) {
        if (event && event.error === 'not-allowed') self.setBlocked(true);
        finish();
      };
      window.speechSynthesis.speak(utterance);
    });
  };

  /* The clips' URLs for a speech text, in order: each space-separated word is matched
   * piece by piece (a run of digits is a counter number), so "三楼10" is 三楼 then 10 and
   * "号窗口办理" is 号 then 窗口办理. A piece without a clip is left out. */
  Announcer.prototype.clipUrls = function (speech) {
    var self = this;
    var urls = [];
    String(speech || '').split(/\s+/).forEach(function (word) {
      var at = 0;
      while (at < word.length) {
        var digits = /^[0-9]+/.exec(word.slice(at));
        var key = digits ? digits[0] : null;
        if (!key) {
          for (var i = 0; i < self.clipKeys.length; i += 1) {
            if (word.substr(at, self.clipKeys[i].length) === self.clipKeys[i]) {
              key = self.clipKeys[i];
              break;
            }
          }
        }
        if (key && Object.prototype.hasOwnProperty.call(self.clips.files, key)) {
          urls.push(self.clips.base + self.clips.files[key]);
        }
        at += key ? key.length : 1;
      }
    });
    return urls;
  };

  Announcer.prototype.buffer = function (url) {
    var context = this.context;
    if (!this.buffers[url]) {
      this.buffers[url] = fetch(url)
        .then(function (response) {
          if (!response.ok) throw new Error(url + ': ' + response.status);
          return response.arrayBuffer();
        })
        .then(function (data) {
          return new Promise(function (resolve, reject) {
            context.decodeAudioData(data, resolve, reject);
          });
        })
        .catch(function () { return null; });  // a missing clip is skipped, not fatal
    }
    return this.buffers[url];
  };

  /* Play the clips back to back through Web Audio; resolves when the last has ended. */
  Announcer.prototype.playClips = async function (urls) {
    var context = this.context;
    var buffers = await Promise.all(urls.map(this.buffer, this));
    var at = context.currentTime + 0.05;
    for (var i = 0; i < urls.length; i += 1) {
      if (!buffers[i]) continue;
      var source = context.createBufferSource();
      source.buffer = buffers[i];
      source.connect(context.destination);
      source.start(at);
      at += buffers[i].duration;
      this.log.clips.push(urls[i]);
    }
    await sleep(Math.max(0, (at - context.currentTime) * 1000));
  };

  /* The manifest, once: {clips: {piece: file}}, the files beside it. */
  Announcer.prototype.loadClips = function () {
    var self = this;
    if (!this.clipsPromise) {
      var base = this.clipsUrl.replace(/[^/]*$/, '');
      this.clipsPromise = fetch(this.clipsUrl)
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (manifest) {
          if (!manifest || !manifest.clips) return null;
          self.clips = { base: base, files: manifest.clips };
          self.clipKeys = Object.keys(manifest.clips).sort(function (a, b) {
            return b.length - a.length;  // longest first: 窗口办理 before 号
          });
          return self.clips;
        })
        .catch(function () { return null; });
    }
    return this.clipsPromise;
  };

  Announcer.prototype.canPlayClips = async function () {
    if (!this.voiceWanted || !this.clipsUrl || !this.context
        || this.context.state !== 'running') return false;
    return Boolean(await this.loadClips());
  };

  Announcer.prototype.pump = function () {
    if (this.busy || this.blocked) return;
    this.busy = true;
    var self = this;
    (async function () {
      while (self.queue.length && !self.blocked) {
        var item = self.queue.shift();
        if (Date.now() - item.at > STALE_MS) continue;
        var entry = { speech: item.speech, text: item.text, mode: 'chime', times: 0,
                      clips: [], start: Date.now(), end: null };
        await self.chime();
        var voice = self.chineseVoice();
        if (voice) {
          entry.mode = 'voice';
          window.speechSynthesis.cancel();
          for (var time = 0; time < self.repeat && !self.blocked; time += 1) {
            await self.say(item.speech, voice);
            entry.times += 1;
            await sleep(GAP_MS);
          }
        } else if (await self.canPlayClips()) {
          // No Chinese voice in this browser: the server's recorded words, in order.
          entry.mode = 'clips';
          entry.clips = self.clipUrls(item.speech);
          for (var again = 0; again < self.repeat && !self.blocked; again += 1) {
            await self.playClips(entry.clips);
            entry.times += 1;
            await sleep(GAP_MS);
          }
        }
        entry.end = Date.now();
        self.log.played.push(entry);
        await sleep(GAP_MS);
      }
      self.busy = false;
      if (self.queue.length && !self.blocked) self.pump();
    }());
  };

  // A screen's announcer from the hall file's sound settings, with the button that lets
  // staff unlock sound when the browser blocks it.
  Announcer.forScreen = function (sound, soundButton) {
    var announcer = new Announcer({
      enabled: sound.enabled,
      voice: sound.voice,
      repeat: sound.repeat,
      rate: sound.rate,
      clips: sound.clips,
      onBlockedChange: function (blocked) { soundButton.hidden = !blocked; }
    });
    soundButton.addEventListener('click', function () { announcer.unlock(); });
    return announcer;
  };

  window.YihaoAnnouncer = Announcer;
}());
