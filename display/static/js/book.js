/* The booking page /book: choose a business, a day and a slot, give an ID; then show the
 * booking code with its QR and let the visitor cancel. Every word comes from the page's
 * table (config.strings); every action is the JSON API. */
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('page-config').textContent);
  var strings = config.strings || {};
  var chosen = { service: null, date: null, start: null };
  var booking = null;

  function t(key, vars) {
    var text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    return text.replace(/\{(\w+)\}/g, function (match, name) {
      return vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : '';
    });
  }
  function $(id) { return document.getElementById(id); }
  function button(label, detail) {
    var node = document.createElement('button');
    node.type = 'button';
    node.className = 'choice';
    node.textContent = label;
    if (detail) {
      var small = document.createElement('small');
      small.textContent = detail;
      node.appendChild(small);
    }
    node.setAttribute('aria-pressed', 'false');
    return node;
  }
  function press(container, pressed) {
    Array.prototype.forEach.call(container.children, function (node) {
      node.setAttribute('aria-pressed', node === pressed ? 'true' : 'false');
    });
  }
  function showError(node, message) {
    node.textContent = message || '';
    node.hidden = !message;
  }
  function api(method, path, body) {
    var options = { method: method, headers: { 'Accept-Language': config.lang } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(config.urls.api + path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error((data.error && data.error.message) || t('failed'));
        return data;
      });
    });
  }
  function dayLabel(iso) {
    var parts = iso.split('-').map(Number);
    var weekday = (new Date(parts[0], parts[1] - 1, parts[2]).getDay() + 6) % 7;
    var label = t('day_label', { month: parts[1], day: parts[2], weekday: t('weekday.' + weekday) });
    return iso === config.days[0] ? t('today') + ' ' + label : label;
  }
  function serviceName(code) {
    var found = config.services.filter(function (service) { return service.code === code; })[0];
    return found ? found.name : code;
  }

  function loadSlots() {
    var list = $('slots');
    chosen.start = null;
    list.textContent = '';
    if (!chosen.service || !chosen.date) return;
    list.textContent = t('loading');
    var query = '?service=' + encodeURIComponent(chosen.service) + '&date=' + chosen.date +
      '&site=' + encodeURIComponent(config.site);
    api('GET', '/appointments/slots' + query).then(function (data) {
      list.textContent = '';
      if (!data.slots.length) { list.textContent = t('no_slots'); return; }
      data.slots.forEach(function (slot) {
        var left = slot.capacity - slot.booked;
        var node = button(slot.start + '–' + slot.end,
          left > 0 ? t('slot_places', { left: left }) : t('slot_full'));
        node.setAttribute('data-start', slot.start);
        node.disabled = left <= 0;
        node.addEventListener('click', function () { chosen.start = slot.start; press(list, node); });
        list.appendChild(node);
      });
    }).catch(function (error) { list.textContent = ''; showError($('error'), error.message); });
  }

  config.services.forEach(function (service) {
    var node = button(service.name);
    node.setAttribute('data-service', service.code);
    node.addEventListener('click', function () {
      chosen.service = service.code; press($('services'), node); loadSlots();
    });
    $('services').appendChild(node);
  });
  config.days.forEach(function (day) {
    var node = button(dayLabel(day));
    node.setAttribute('data-date', day);
    node.addEventListener('click', function () { chosen.date = day; press($('days'), node); loadSlots(); });
    $('days').appendChild(node);
  });
  $('closed').hidden = config.services.length > 0;

  function showBooking(appointment) {
    booking = appointment;
    $('book-form').hidden = true;
    $('result').hidden = false;
    $('result').setAttribute('data-state', appointment.state);
    $('code').textContent = appointment.code;
    $('qr').src = config.urls.qr + appointment.code + '.png';
    $('result-service').textContent = serviceName(appointment.service);
    $('result-when').textContent = t('when', { date: dayLabel(appointment.date), start: appointment.start, end: appointment.end });
    $('hint').textContent = t('check_in_hint', { early: config.early, late: config.late });
    var cancelled = appointment.state === 'cancelled';
    $('result-title').textContent = cancelled ? t('cancelled') : t('done');
    $('cancel').hidden = appointment.state !== 'booked';
    $('again').hidden = !cancelled;
  }

  $('book-form').addEventListener('submit', function (event) {
    event.preventDefault();
    showError($('error'), '');
    if (!chosen.service || !chosen.date || !chosen.start) { showError($('error'), t('choose_all')); return; }
    var body = { service: chosen.service, date: chosen.date, start: chosen.start, site: config.site,
                 visitor_id: $('visitor-id').value.trim() };
    var phone = $('phone').value.trim();
    if (phone) body.phone = phone;
    $('submit').disabled = true;
    api('POST', '/appointments', body).then(function (data) {
      showBooking(data.appointment);
    }).catch(function (error) {
      showError($('error'), error.message);
      loadSlots();
    }).then(function () { $('submit').disabled = false; });
  });

  $('cancel').addEventListener('click', function () {
    if (!booking || !window.confirm(t('cancel_confirm'))) return;
    showError($('result-error'), '');
    api('POST', '/appointments/' + encodeURIComponent(booking.id) + '/cancel', {}).then(function (data) {
      showBooking(data.appointment);
    }).catch(function (error) { showError($('result-error'), error.message); });
  });
  $('again').addEventListener('click', function () {
    booking = null;
    $('result').hidden = true;
    $('book-form').hidden = false;
    loadSlots();
  });
})();
