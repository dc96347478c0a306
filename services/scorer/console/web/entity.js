// georisk console: the entity page. Its score and factor bars (GetScore),
// the explanation as shares and a tree of upstream paths (ExplainScore),
// the history chart with its causes (GetScoreHistory), and the listings and
// links the explanation names.
'use strict';

(() => {
  const {api, el, factorName, bandName, kindName, points, entityHref,
         setStatus} = georisk;
  const id = new URLSearchParams(location.search).get('id') || '';

  // A horizontal bar, 0..100, as SVG (no inline styles under the CSP).
  function bar(value, cls) {
    const w = Math.max(0, Math.min(100, Number(value) || 0));
    return el('svg', {class: 'bar', viewBox: '0 0 100 6',
                      preserveAspectRatio: 'none', role: 'img',
                      'aria-label': points(value)},
              el('rect', {class: 'track', x: 0, y: 0, width: 100, height: 6}),
              el('rect', {class: 'fill ' + (cls || ''), x: 0, y: 0,
                          width: w.toFixed(2), height: 6}));
  }

  function renderSummary(score) {
    document.title = 'georisk · ' + (score.entityName || score.entityId);
    document.getElementById('summary').replaceChildren(
        el('h1', {}, score.entityName || score.entityId),
        el('p', {class: 'id'}, score.entityId, ' · ', kindName(score.entityKind),
           ' · ', score.country || 'no country'),
        el('p', {class: 'composite'},
           el('span', {id: 'composite', 'data-score': score.composite},
              points(score.composite)),
           ' ', el('span', {class: 'band ' + bandName(score.band)},
                   bandName(score.band)),
           el('span', {class: 'meta'}, ' model ', score.modelVersion,
              ' · graph sequence ', score.graphSequence)),
        bar(score.composite, bandName(score.band)));
  }

  function renderFactors(score) {
    const rows = (score.factors || []).map((f) => el('div', {class: 'factor'},
        el('span', {class: 'name'}, factorName(f.factor)),
        bar(100 * f.propagated),
        el('span', {class: 'num'}, points(100 * f.propagated)),
        el('span', {class: 'meta'}, 'direct ', points(100 * f.direct))));
    document.getElementById('factors').replaceChildren(...rows);
  }

  function contributionLabel(c) {
    if (c.upstream) {
      return el('span', {}, el('a', {href: entityHref(c.upstream.entityId)},
                               c.upstream.entityName || c.upstream.entityId),
                ' — ', c.description);
    }
    return el('span', {}, c.description);
  }

  // The paths of one factor merged into a tree: hops with the same entity
  // at the same place share a node; a node's share is the sum of its paths'.
  function pathTree(paths) {
    const root = {children: new Map()};
    for (const p of paths) {
      let node = root;
      const hops = p.hops || [];
      // The first hop is the entity itself: the tree starts below it.
      for (const h of hops[0] && hops[0].entityId === id ? hops.slice(1) : hops) {
        if (!node.children.has(h.entityId)) {
          node.children.set(h.entityId, {hop: h, fraction: 0,
                                         children: new Map(), summary: ''});
        }
        node = node.children.get(h.entityId);
        node.fraction += Number(p.fraction || 0);
      }
      node.summary = p.summary;
    }
    function render(node) {
      return el('ul', {class: 'tree'}, [...node.children.values()].map((n) =>
          el('li', {},
             el('a', {href: entityHref(n.hop.entityId)},
                n.hop.entityName || n.hop.entityId),
             el('span', {class: 'meta'}, ' ', kindName(n.hop.edgeKind),
                ' weight ', Number(n.hop.weight || 0).toFixed(2), ' · score ',
                points(100 * n.hop.score), ' · ',
                (100 * n.fraction).toFixed(1), '% of the factor'),
             n.summary ? el('div', {class: 'summary'}, n.summary) : null,
             n.children.size ? render(n) : null)));
    }
    return render(root);
  }

  function renderExplanation(e) {
    const score = e.score || {};
    const sections = [];
    for (const f of score.factors || []) {
      const total = 100 * Number(f.propagated || 0);
      const contributions =
          (e.contributions || []).filter((c) => c.factor === f.factor);
      if (!contributions.length && total === 0) continue;
      const paths = (e.paths || []).filter((p) => p.factor === f.factor);
      sections.push(el('details', {class: 'explained', open: true,
                                   'data-factor': f.factor,
                                   'data-factor-score': total},
          el('summary', {}, factorName(f.factor), ' ', points(total)),
          el('ul', {class: 'contributions'}, contributions.map((c) => {
            const share = total * Number(c.fraction || 0);
            return el('li', {class: 'contribution', 'data-share': share},
                      el('span', {class: 'num'}, points(share)), ' ',
                      contributionLabel(c));
          })),
          paths.length ? el('div', {class: 'paths'},
                            el('h3', {}, 'Upstream paths'), pathTree(paths)) :
                         null));
    }
    document.getElementById('explanation').replaceChildren(
        ...(sections.length ? sections :
                              [el('p', {}, 'Nothing contributes a risk.')]));
  }

  // The composite over time, each point marked with its cause.
  function renderHistory(points_) {
    const box = document.getElementById('history');
    const pts = points_.filter((p) => !p.deleted);
    if (!pts.length) {
      box.replaceChildren(el('p', {}, 'No history yet.'));
      return;
    }
    const W = 720, H = 200, L = 40, B = 24;
    const times = pts.map((p) => Date.parse(p.time));
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const x = (t) => L + (t1 === t0 ? (W - L) / 2 : (t - t0) / (t1 - t0) * (W - L - 10));
    const y = (v) => 10 + (H - B - 10) * (1 - Math.max(0, Math.min(100, v)) / 100);
    const svg = el('svg', {id: 'history-chart', class: 'chart',
                           viewBox: '0 0 ' + W + ' ' + H, role: 'img',
                           'aria-label': 'composite score over time'});
    for (const v of [0, 50, 100]) {
      svg.append(el('line', {class: 'grid', x1: L, x2: W, y1: y(v), y2: y(v)}),
                 el('text', {class: 'axis', x: L - 6, y: y(v) + 4}, v));
    }
    svg.append(el('polyline', {class: 'line', points: pts.map((p, i) =>
        x(times[i]).toFixed(1) + ',' + y(p.composite).toFixed(1)).join(' ')}));
    pts.forEach((p, i) => svg.append(el('circle', {
        class: 'point' + (p.rebuild ? ' rebuild' : ''), cx: x(times[i]),
        cy: y(p.composite), r: 4},
        el('title', {}, new Date(times[i]).toISOString() + ' · ' +
                        points(p.composite) + ' · ' + (p.reason || 'no reason')))));
    svg.append(el('text', {class: 'axis start', x: L, y: H - 6},
                  new Date(t0).toISOString().slice(0, 10)),
               el('text', {class: 'axis end', x: W, y: H - 6},
                  new Date(t1).toISOString().slice(0, 10)));
    const list = el('ol', {class: 'causes'}, pts.slice().reverse().slice(0, 10)
        .map((p) => el('li', {}, new Date(p.time).toISOString(), ' · ',
                       points(p.composite), ' · ', p.reason || 'no reason')));
    box.replaceChildren(svg, el('h3', {}, 'Latest moves'), list);
  }

  function renderLinks(e) {
    const direct = (e.contributions || []).filter((c) => c.direct);
    const upstream = (e.contributions || []).filter((c) => c.upstream);
    document.getElementById('links').replaceChildren(
        el('h3', {}, 'Signals and listings on this entity'),
        direct.length ? el('ul', {}, direct.map((c) => el('li', {},
            c.direct.signalTitle || c.direct.signalId, ' ',
            el('span', {class: 'meta'}, c.direct.source, ' · ',
               factorName(c.factor), ' · exposure ',
               Number(c.direct.exposure || 0).toFixed(2))))) :
            el('p', {}, 'None.'),
        el('h3', {}, 'Upstream links that carry risk'),
        upstream.length ? el('ul', {}, upstream.map((c) => el('li', {},
            el('a', {href: entityHref(c.upstream.entityId)},
               c.upstream.entityName || c.upstream.entityId), ' ',
            el('span', {class: 'meta'}, kindName(c.upstream.edgeKind),
               ' weight ', Number(c.upstream.weight || 0).toFixed(2), ' · ',
               factorName(c.factor))))) :
            el('p', {}, 'None.'));
  }

  async function load() {
    if (!id) {
      setStatus('No entity: open this page from the top risks.', true);
      return;
    }
    setStatus('Loading…');
    try {
      const [score, explanation] = await Promise.all([
        api('scorer', 'GetScore', {entityId: id}),
        api('scorer', 'ExplainScore', {entityId: id, maxPaths: 20}),
      ]);
      renderSummary(score);
      renderFactors(score);
      renderExplanation(explanation);
      renderLinks(explanation);
      setStatus('');
    } catch (err) {
      setStatus(err.message, true);
      return;
    }
    try {
      const h = await api('scorer', 'GetScoreHistory',
                          {entityId: id, pageSize: 1000});
      renderHistory(h.points || []);
    } catch (err) {
      document.getElementById('history').replaceChildren(
          el('p', {class: 'error'}, err.message));
    }
    document.body.setAttribute('data-loaded', 'true');
  }

  georisk.initLogin(load);
  load();
})();
