// georisk console: the scenario page (RunScenario). The scenario is edited
// as JSON (georisk.v1.Scenario), loaded from a file, or given in the URL's
// fragment (#<URI-encoded JSON>), which runs it at once: a what-if can be
// shared as a link. Live scores are untouched, as with the RPC.
'use strict';

(() => {
  const {api, el, bandName, points, entityHref, setStatus} = georisk;
  const EXAMPLE = {
    name: 'cross-strait tension to 0.9',
    overrides: [{
      upsertSignal: {
        id: 'signal/cross-strait-tension',
        title: 'Cross-strait tension at 0.9 (what-if)',
        source: "what-if: the demo's assumed level 0.6 raised to 0.9",
        effectiveFrom: '2025-01-01T00:00:00Z',
        tension: {theatre: 'cross_strait', level: 0.9},
      },
    }],
  };
  const text = document.getElementById('scenario');

  function signed(x) {
    const v = Number(x || 0);
    return (v >= 0 ? '+' : '') + v.toFixed(1);
  }

  function render(response) {
    const rows = (response.deltas || []).map((d, i) => {
      const before = d.before || {}, after = d.after || {};
      const reasons = (d.topReasons || []).map((c) => el('li', {},
          c.description));
      return el('tr', {'data-entity-id': d.entityId, 'data-delta': d.delta},
          el('td', {class: 'num'}, i + 1),
          el('td', {}, el('a', {href: entityHref(d.entityId)},
                          after.entityName || before.entityName || d.entityId),
             el('div', {class: 'id'}, d.entityId)),
          el('td', {class: 'num'}, points(before.composite), ' ',
             el('span', {class: 'band ' + bandName(before.band)},
                bandName(before.band))),
          el('td', {class: 'num'}, points(after.composite), ' ',
             el('span', {class: 'band ' + bandName(after.band)},
                bandName(after.band))),
          el('td', {class: 'num'}, signed(d.delta)),
          el('td', {}, reasons.length ?
              el('details', {}, el('summary', {}, 'after: ',
                                   (d.topReasons[0] || {}).description || ''),
                 el('ol', {}, reasons)) : ''));
    });
    document.getElementById('result').replaceChildren(
        el('h2', {}, response.name || 'Scenario'),
        el('p', {class: 'meta'}, response.affectedCount, ' entities move · graph sequence ',
           response.graphSequence, ' · model ', response.modelVersion),
        el('table', {id: 'deltas'},
           el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'Entity'),
              el('th', {}, 'Before'), el('th', {}, 'After'),
              el('th', {}, 'Delta'), el('th', {}, 'Why, after'))),
           el('tbody', {}, rows)));
    document.body.setAttribute('data-loaded', 'true');
  }

  async function run() {
    let scenario;
    try {
      scenario = JSON.parse(text.value);
    } catch (err) {
      setStatus('The scenario is not JSON: ' + err.message, true);
      return;
    }
    setStatus('Running…');
    try {
      const response = await api('scorer', 'RunScenario', {
        scenario,
        maxResults: Number(document.getElementById('maxResults').value) || 0,
        minDelta: Number(document.getElementById('minDelta').value) || 0,
        includeReasons: true,
      });
      setStatus('');
      render(response);
    } catch (err) {
      setStatus(err.message, true);
    }
  }

  document.getElementById('run').addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  document.getElementById('file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    if (f) text.value = await f.text();
  });
  document.getElementById('share').addEventListener('click', () => {
    location.hash = encodeURIComponent(text.value);
    setStatus('The address now holds this scenario.');
  });

  const fromUrl = location.hash.length > 1 ?
      decodeURIComponent(location.hash.slice(1)) : '';
  text.value = fromUrl || JSON.stringify(EXAMPLE, null, 2);
  georisk.initLogin(run);
  if (fromUrl) run();
})();
