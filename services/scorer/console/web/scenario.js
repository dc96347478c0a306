// georisk console: the scenario page (RunScenario). The scenario is the YAML
// (or JSON) file `georiskctl scenario` reads: edited here, uploaded, taken
// from an example (data/scenarios, served beside the pages) or given in the
// URL's fragment (#<URI-encoded text>), which runs it at once, so a what-if
// can be shared as a link. The scorer parses the text with the CLI's parser
// (POST /api/v1/console/ParseScenario) and the page runs the Scenario it
// answers; each delta opens its entity's explanation before (ExplainScore,
// live) and after (the scenario's top reasons). Live scores are untouched,
// as with the RPC.
'use strict';

(() => {
  const {api, post, el, factorName, bandName, points, entityHref,
         setStatus} = georisk;
  const text = document.getElementById('scenario');
  const example = document.getElementById('example');
  let fileName = 'scenario';  // Names the text in the parser's errors.

  function signed(x) {
    const v = Number(x || 0);
    return (v >= 0 ? '+' : '') + v.toFixed(1);
  }

  function factorTable(before, after) {
    const rows = (after.factors || []).map((f) => {
      const b = (before.factors || []).find((x) => x.factor === f.factor) || {};
      return el('tr', {},
          el('td', {}, factorName(f.factor)),
          el('td', {class: 'num'}, points(100 * Number(b.propagated || 0))),
          el('td', {class: 'num'}, points(100 * Number(f.propagated || 0))));
    });
    return el('table', {class: 'factors'},
        el('thead', {}, el('tr', {}, el('th', {}, 'Factor'),
                           el('th', {}, 'Before'), el('th', {}, 'After'))),
        el('tbody', {}, rows));
  }

  function contributions(list, total) {
    return el('ul', {class: 'contributions'}, list.map((c) =>
        el('li', {}, el('span', {class: 'num'},
                        (100 * Number(c.fraction || 0)).toFixed(0) + '%'),
           ' ', factorName(c.factor), ': ', c.description)));
  }

  // The before/after explanation of one delta, filled in when opened.
  function explainer(d) {
    const box = el('div', {class: 'beforeafter'});
    const details = el('details', {class: 'explain',
                                   'data-explain-for': d.entityId},
                       el('summary', {}, 'before / after'), box);
    details.addEventListener('toggle', async () => {
      if (!details.open || details.hasAttribute('data-explained')) return;
      box.replaceChildren(el('p', {class: 'meta'}, 'Loading…'));
      try {
        const live = await api('scorer', 'ExplainScore',
                               {entityId: d.entityId, maxPaths: 5});
        box.replaceChildren(
            factorTable(d.before || {}, d.after || {}),
            el('div', {class: 'columns'},
               el('div', {'data-side': 'before'},
                  el('h3', {}, 'Before (live) ', points((d.before || {}).composite)),
                  contributions(live.contributions || [])),
               el('div', {'data-side': 'after'},
                  el('h3', {}, 'After (scenario) ', points((d.after || {}).composite)),
                  contributions(d.topReasons || []))));
        details.setAttribute('data-explained', 'true');
      } catch (err) {
        box.replaceChildren(el('p', {class: 'error'}, err.message));
      }
    });
    return details;
  }

  function render(response) {
    const rows = (response.deltas || []).map((d, i) => {
      const before = d.before || {}, after = d.after || {};
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
          el('td', {}, (d.topReasons && d.topReasons[0] || {}).description || '',
             explainer(d)));
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
    document.body.removeAttribute('data-loaded');
    setStatus('Running…');
    try {
      const scenario = await post(
          '/api/v1/console/ParseScenario?name=' + encodeURIComponent(fileName),
          text.value, 'application/yaml');
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
      document.body.setAttribute('data-error', 'true');
    }
  }

  async function loadExample() {
    const response = await fetch(example.value, {cache: 'no-store'});
    if (!response.ok) throw new Error(example.value + ': HTTP ' + response.status);
    text.value = await response.text();
    fileName = example.value.slice(1);
  }

  document.getElementById('run').addEventListener('submit', (e) => {
    e.preventDefault();
    run();
  });
  example.addEventListener('change', () => {
    loadExample().catch((err) => setStatus(err.message, true));
  });
  document.getElementById('file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    if (!f) return;
    text.value = await f.text();
    fileName = f.name;
    document.body.setAttribute('data-uploaded', f.name);
  });
  text.addEventListener('input', () => { fileName = 'scenario'; });
  document.getElementById('share').addEventListener('click', () => {
    location.hash = encodeURIComponent(text.value);
    setStatus('The address now holds this scenario.');
  });

  georisk.initLogin(run);
  const fromUrl = location.hash.length > 1 ?
      decodeURIComponent(location.hash.slice(1)) : '';
  if (fromUrl) {
    text.value = fromUrl;
    run();
  } else {
    loadExample().then(() => document.body.setAttribute('data-ready', 'true'))
        .catch((err) => setStatus(err.message, true));
  }
})();
