// georisk console: the top risks page (ListTopRisks). Filters and the page
// live in the URL's query, so a view can be linked and reloaded.
'use strict';

(() => {
  const {api, el, bandName, kindName, points, entityHref, setStatus} = georisk;
  const FILTERS = ['factor', 'entityKind', 'country', 'minScore', 'pageSize'];
  // Tokens of the pages before this one, for "Previous".
  let previous = [];

  function request(params) {
    const r = {};
    for (const k of FILTERS) {
      const v = params.get(k);
      if (v === null || v === '') continue;
      r[k] = (k === 'minScore' || k === 'pageSize') ? Number(v) : v;
    }
    if (!r.pageSize) r.pageSize = 25;
    if (params.get('pageToken')) r.pageToken = params.get('pageToken');
    r.includeReasons = true;
    return r;
  }

  function fillForm(params) {
    const form = document.getElementById('filters');
    for (const k of FILTERS) {
      if (params.get(k) !== null) form.elements[k].value = params.get(k);
    }
  }

  // The main reason of a row: the first contribution of its explanation,
  // which ListTopRisks returns beside it (includeReasons).
  function reasonText(c) {
    return c && c.description ? c.description : 'no contribution';
  }

  async function load() {
    const params = new URLSearchParams(location.search);
    fillForm(params);
    const req = request(params);
    setStatus('Loading…');
    let response;
    try {
      response = await api('scorer', 'ListTopRisks', req);
    } catch (err) {
      setStatus(err.message, true);
      return;
    }
    const body = document.querySelector('#top tbody');
    body.replaceChildren();
    const offset = previous.length * req.pageSize;
    const reasons = response.mainReasons || [];
    (response.scores || []).forEach((s, i) => {
      const reason = el('td', {class: 'reason'}, reasonText(reasons[i]));
      const shown = req.factor && req.factor !== 'FACTOR_UNSPECIFIED' ?
          (s.factors || []).find((f) => f.factor === req.factor) : null;
      body.append(el('tr', {'data-entity-id': s.entityId},
          el('td', {class: 'num'}, offset + i + 1),
          el('td', {}, el('a', {href: entityHref(s.entityId)},
                          s.entityName || s.entityId),
             el('div', {class: 'id'}, s.entityId)),
          el('td', {}, kindName(s.entityKind)),
          el('td', {}, s.country),
          el('td', {class: 'num'},
             shown ? points(100 * shown.propagated) : points(s.composite)),
          el('td', {}, el('span', {class: 'band ' + bandName(s.band)},
                          bandName(s.band))),
          reason));
    });
    const total = Number(response.totalSize || 0);
    const count = (response.scores || []).length;
    setStatus(total + ' entities match');
    document.getElementById('page').textContent = count ?
        (offset + 1) + '–' + (offset + count) + ' of ' + total : '';
    const next = document.getElementById('next');
    next.disabled = !response.nextPageToken;
    next.onclick = () => {
      previous.push(params.get('pageToken') || '');
      go({pageToken: response.nextPageToken});
    };
    const prev = document.getElementById('prev');
    prev.disabled = previous.length === 0;
    prev.onclick = () => go({pageToken: previous.pop()});
  }

  function go(changes) {
    const params = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '' || v === undefined) params.delete(k); else params.set(k, v);
    }
    history.pushState(null, '', '?' + params.toString());
    load();
  }

  document.getElementById('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.target;
    const changes = {pageToken: ''};
    for (const k of FILTERS) changes[k] = form.elements[k].value.trim();
    previous = [];
    go(changes);
  });
  window.addEventListener('popstate', () => { previous = []; load(); });
  georisk.initLogin(load);
  load();
})();
