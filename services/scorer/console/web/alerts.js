// georisk console: the alerts page. The newest 100 records of the alert log
// (ListAlerts), then new ones as they are written: a server-sent event
// stream (GET /api/v1/alerts/WatchAlerts) read with fetch, so that it can
// carry the bearer token, resumed after the last record seen (Last-Event-ID)
// when it ends.
'use strict';

(() => {
  const {api, el, bandName, points, entityHref, setStatus} = georisk;
  let last = 0;  // The highest sequence shown.
  let streaming = false;

  function row(a, live) {
    return el('tr', {'data-sequence': a.sequence, 'data-alert-id': a.alertId,
                     class: live ? 'live' : null, 'data-live': live ? 'true' : null},
        el('td', {class: 'num'}, a.sequence),
        el('td', {}, (a.state || '').toLowerCase()),
        el('td', {}, el('a', {href: entityHref(a.entityId)},
                        a.entityName || a.entityId),
           el('div', {class: 'id'}, a.entityId)),
        el('td', {}, a.ruleName),
        el('td', {}, (a.severity || '').replace(/^SEVERITY_/, '').toLowerCase()),
        el('td', {class: 'num'}, points(a.scoreBefore), ' → ', points(a.scoreAfter),
           ' ', el('span', {class: 'band ' + bandName(a.bandAfter)},
                   bandName(a.bandAfter))),
        el('td', {class: 'reason'}, (a.reasons || []).join('; ')),
        el('td', {class: 'meta'}, a.updateTime || a.startTime || ''));
  }

  function add(a, live) {
    const seq = Number(a.sequence);
    if (seq <= last) return;
    last = seq;
    document.querySelector('#alerts tbody').prepend(row(a, live));
  }

  // Reads one stream until it ends; returns to be called again.
  async function stream() {
    const headers = {'Accept': 'text/event-stream'};
    const token = sessionStorage.getItem('georisk.token');
    if (token) headers['Authorization'] = 'Bearer ' + token;
    // After the last record shown; from the log's start if none was (0
    // would mean "only new", missing what came since ListAlerts).
    if (last > 0) headers['Last-Event-ID'] = String(last);
    const response = await fetch('/api/v1/alerts/WatchAlerts' +
                                 (last > 0 ? '' : '?fromSequence=1'), {
      headers, cache: 'no-store', credentials: 'omit'});
    if (!response.ok) throw new Error('alert stream: HTTP ' + response.status);
    streaming = true;
    document.getElementById('live').textContent =
        'Live: new alerts appear here as they are raised.';
    document.body.setAttribute('data-streaming', 'true');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message', data = '';
        for (const line of event.split('\n')) {
          if (line.startsWith('event: ')) type = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (type === 'alert' && data) add(JSON.parse(data), true);
      }
    }
    streaming = false;
  }

  async function follow() {
    for (;;) {
      try {
        await stream();
      } catch (err) {
        document.getElementById('live').textContent = err.message + '; retrying';
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  async function load() {
    setStatus('Loading…');
    try {
      const r = await api('alerts', 'ListAlerts', {pageSize: 100});
      const alerts = (r.alerts || []).slice().reverse();  // Oldest first.
      for (const a of alerts) add(a, false);
      setStatus(alerts.length ? '' : 'No alerts yet.');
    } catch (err) {
      setStatus(err.message, true);
      return;
    }
    document.body.setAttribute('data-loaded', 'true');
    if (!streaming) follow();
  }

  georisk.initLogin(load);
  load();
})();
