// georisk console: the entity page. Its score and factor bars (GetScore),
// its links drawn (ListNeighbours),
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

  // The supply and ownership neighbourhood that carries the entity's risk,
  // as a drawing: the entities of the explanation's upstream paths, each in
  // the column of its smallest distance (the entity itself on the left,
  // its suppliers and owners next, theirs beyond), in a column by the share
  // of the score their paths carry; an arrow per link the paths take, in
  // the direction risk flows, labelled with its kind and weight. The
  // layout is this page's own (no library): columns and rows, so that it
  // is the same for the same explanation.
  function renderNeighbourhood(e) {
    const box = document.getElementById('neighbourhood');
    const nodes = new Map();  // id -> {id, name, depth, share, factors}
    const edges = new Map();  // "from>to" -> {from, to, kind, weight}
    nodes.set(id, {id, name: (e.score || {}).entityName || id, depth: 0,
                   share: 1, factors: new Set()});
    for (const p of e.paths || []) {
      const hops = p.hops || [];
      hops.forEach((h, i) => {
        const n = nodes.get(h.entityId) ||
            {id: h.entityId, name: h.entityName || h.entityId, depth: i,
             share: 0, factors: new Set()};
        n.depth = Math.min(n.depth, i);
        if (i > 0) n.share += Number(p.fraction || 0);
        n.factors.add(p.factor);
        nodes.set(h.entityId, n);
        if (i > 0) {
          const key = h.entityId + '>' + hops[i - 1].entityId;
          if (!edges.has(key)) {
            edges.set(key, {from: h.entityId, to: hops[i - 1].entityId,
                            kind: h.edgeKind, weight: h.weight});
          }
        }
      });
    }
    if (nodes.size === 1) {
      box.replaceChildren(el('p', {}, 'No upstream supplier or owner carries ' +
                                      'a risk to this entity.'));
      return;
    }
    const columns = [];
    for (const n of nodes.values()) {
      (columns[n.depth] = columns[n.depth] || []).push(n);
    }
    for (const c of columns) {
      if (c) c.sort((a, b) => b.share - a.share || a.id.localeCompare(b.id));
    }
    const COL = 250, ROW = 72, TOP = 36, LEFT = 110, R = 10;
    const rows = Math.max(...columns.map((c) => (c || []).length));
    const W = LEFT + COL * (columns.length - 1) + 120;
    const H = TOP + ROW * rows;
    const at = new Map();
    columns.forEach((c, d) => (c || []).forEach((n, i) => {
      // Each column centred on the tallest one.
      const offset = (rows - c.length) * ROW / 2;
      at.set(n.id, {x: LEFT + d * COL, y: TOP + offset + i * ROW + ROW / 2 - 10});
    }));
    // Drawn at its own size (narrower than the page when it has few
    // columns), shrunk to the page's width when wider.
    const svg = el('svg', {id: 'neighbourhood-graph', class: 'graph',
                           width: W, height: H,
                           viewBox: '0 0 ' + W + ' ' + H, role: 'img',
                           'aria-label': 'suppliers and owners that carry ' +
                                         'the risk'},
        el('defs', {}, el('marker', {id: 'arrow', viewBox: '0 0 10 10',
                                     refX: 10, refY: 5, markerWidth: 7,
                                     markerHeight: 7, orient: 'auto'},
                          el('path', {class: 'head', d: 'M0,0 L10,5 L0,10 z'}))));
    columns.forEach((c, d) => svg.append(el('text', {class: 'kind',
        x: LEFT + d * COL, y: 14},
        d === 0 ? 'this entity' : d === 1 ? 'direct suppliers and owners' :
                                            d + ' links upstream')));
    for (const edge of edges.values()) {
      const a = at.get(edge.from), b = at.get(edge.to);
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      const kind = (edge.kind || '').toLowerCase();
      svg.append(el('g', {'data-edge': edge.from + '>' + edge.to},
          el('line', {class: 'edge ' + kind,
                      x1: (a.x + dx / len * R).toFixed(1),
                      y1: (a.y + dy / len * R).toFixed(1),
                      x2: (b.x - dx / len * (R + 2)).toFixed(1),
                      y2: (b.y - dy / len * (R + 2)).toFixed(1),
                      'marker-end': 'url(#arrow)'}),
          el('text', {class: 'kind', x: ((a.x + b.x) / 2).toFixed(1),
                      y: ((a.y + b.y) / 2 - 4).toFixed(1)},
             kindName(edge.kind), ' ', Number(edge.weight || 0).toFixed(2)),
          el('title', {}, edge.from + ' ' + kindName(edge.kind) + ' ' +
                          edge.to)));
    }
    for (const n of nodes.values()) {
      const p = at.get(n.id);
      const name = n.name.length > 34 ? n.name.slice(0, 33) + '…' : n.name;
      svg.append(el('svg:a', {href: entityHref(n.id), 'data-node': n.id},
          el('circle', {class: 'node' + (n.depth === 0 ? ' centre' : ''),
                        cx: p.x, cy: p.y, r: R}),
          el('text', {class: 'label', x: p.x, y: p.y + R + 13}, name),
          el('title', {}, n.name + ' (' + n.id + ')' + (n.depth ?
              ' · carries ' + (100 * n.share).toFixed(1) + '% of ' +
              [...n.factors].map(factorName).join(', ') : ''))));
    }
    box.replaceChildren(svg);
  }

  // The entity's links (ListNeighbours): what it is linked to, whether or
  // not risk flows over the link. Inbound on the left (its owners, its
  // operator, its suppliers), the entity in the middle, outbound on the
  // right (what it owns, the facilities it operates, its customers); in a
  // column by kind, then by score. One arrow per edge record in the
  // direction risk flows (supplier -> customer, facility -> operator, owned
  // -> owner; dashed for ownership), grey and without a head when the model
  // propagates nothing over it (out of its window, a stake into a person, a
  // weight of 0). At most LINKS_DRAWN a side; the rest are counted.
  const LINKS_DRAWN = 25;
  function renderLinksGraph(score, response) {
    const box = document.getElementById('links-graph');
    const all = response.neighbours || [];
    if (!all.length) {
      box.replaceChildren(el('p', {}, 'No supplier, customer, owner, ' +
                                      'operator or owned entity.'));
      return;
    }
    const kindOrder = {OWNS: 0, OPERATES: 1, SUPPLIES: 2};
    const side = (dir) => all.filter((n) => n.direction === dir)
        .sort((a, b) => (kindOrder[a.edge.kind] - kindOrder[b.edge.kind]) ||
                        (b.composite - a.composite) ||
                        a.entityId.localeCompare(b.entityId))
        .slice(0, LINKS_DRAWN);
    const left = side('DIRECTION_INBOUND'), right = side('DIRECTION_OUTBOUND');
    const ROW = 40, TOP = 40, R = 9, W = 960, LX = 240, CX = 480, RX = 720;
    const rows = Math.max(left.length, right.length, 1);
    const H = TOP + ROW * rows + 30;
    const centre = {x: CX, y: TOP + ROW * rows / 2};
    const svg = el('svg', {id: 'links-graph-svg', class: 'graph', width: W,
                           height: H, viewBox: '0 0 ' + W + ' ' + H,
                           role: 'img',
                           'aria-label': 'suppliers, customers, owners and ' +
                                         'owned entities'},
        el('defs', {}, el('marker', {id: 'link-arrow', viewBox: '0 0 10 10',
                                     refX: 10, refY: 5, markerWidth: 7,
                                     markerHeight: 7, orient: 'auto'},
                          el('path', {class: 'head', d: 'M0,0 L10,5 L0,10 z'}))),
        el('text', {class: 'kind', x: LX, y: 14},
           'owners, operator, suppliers'),
        el('text', {class: 'kind', x: RX, y: 14},
           'owned, operated, customers'));
    // Risk flows with the stored edge for SUPPLIES, against it otherwise.
    const flowsWithEdge = (kind) => kind === 'SUPPLIES';
    const draw = (n, i, x) => {
      const p = {x, y: TOP + ROW * (rows - (x === LX ? left : right).length) /
                       2 + i * ROW + ROW / 2};
      const e = n.edge;
      const fromLeft = x === LX;
      // Stored direction: inbound edges end at the entity.
      const stored = fromLeft ? [p, centre] : [centre, p];
      const [a, b] = flowsWithEdge(e.kind) ? stored : [stored[1], stored[0]];
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      const kind = (e.kind || '').toLowerCase();
      const key = [e.fromId, e.kind, e.toId, e.productCode || '',
                   e.recordId || ''].join('|');
      svg.append(el('g', {'data-link-edge': key,
                          'data-link-propagates': n.propagates ? 'true' :
                                                                 'false'},
          el('line', {class: 'edge ' + kind + (n.propagates ? '' : ' idle'),
                      x1: (a.x + dx / len * R).toFixed(1),
                      y1: (a.y + dy / len * R).toFixed(1),
                      x2: (b.x - dx / len * (R + 2)).toFixed(1),
                      y2: (b.y - dy / len * (R + 2)).toFixed(1),
                      'marker-end': n.propagates ? 'url(#link-arrow)' : null}),
          el('title', {}, e.fromId + ' ' + kindName(e.kind) + ' ' + e.toId +
                          (e.productCode ? ' (' + e.productCode + ')' : '') +
                          ' · weight ' + Number(e.weight || 0).toFixed(2) +
                          (n.propagates ? ' · risk flows, w ' +
                           Number(n.propagationWeight).toFixed(2) :
                           ' · carries no risk now'))));
      const name = (n.entityName || n.entityId);
      const label = (name.length > 26 ? name.slice(0, 25) + '…' : name);
      svg.append(el('svg:a', {href: entityHref(n.entityId),
                              'data-link-node': n.entityId},
          el('circle', {class: 'node ' + bandName(n.band), cx: p.x, cy: p.y,
                        r: R}),
          el('text', {class: 'label ' + (fromLeft ? 'end' : 'start'),
                      x: p.x + (fromLeft ? -14 : 14), y: p.y + 4}, label),
          // Near the neighbour, where the lines of a column are apart.
          el('text', {class: 'kind', x: (0.6 * p.x + 0.4 * centre.x).toFixed(1),
                      y: (0.6 * p.y + 0.4 * centre.y - 4).toFixed(1)},
             kindName(e.kind), ' ', Number(e.weight || 0).toFixed(2)),
          el('title', {}, name + ' (' + n.entityId + ') · ' +
                          points(n.composite) + ' ' + bandName(n.band))));
    };
    left.forEach((n, i) => draw(n, i, LX));
    right.forEach((n, i) => draw(n, i, RX));
    svg.append(el('svg:a', {href: entityHref(id), 'data-link-node': id},
        el('circle', {class: 'node centre ' + bandName(score.band),
                      cx: centre.x, cy: centre.y, r: R + 2}),
        el('text', {class: 'label', x: centre.x, y: centre.y + R + 16},
           score.entityName || id)));
    const total = Number(response.totalSize || all.length);
    const drawn = left.length + right.length;
    box.replaceChildren(svg, drawn < total ?
        el('p', {class: 'hint'}, drawn + ' of ' + total + ' links drawn.') :
        el('p', {class: 'hint', 'data-links-total': total},
           total + ' links.'));
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
        cy: y(p.composite), r: 4, 'data-point-composite': p.composite,
        'data-point-reason': p.reason || ''},
        el('title', {}, new Date(times[i]).toISOString() + ' · ' +
                        points(p.composite) + ' · ' + (p.reason || 'no reason')))));
    // Each move numbered on the chart, its cause under the same number.
    pts.forEach((p, i) => svg.append(el('text', {class: 'mark',
        x: x(times[i]), y: y(p.composite) - 8}, i + 1)));
    svg.append(el('text', {class: 'axis start', x: L, y: H - 6},
                  new Date(t0).toISOString().slice(0, 10)),
               el('text', {class: 'axis end', x: W, y: H - 6},
                  new Date(t1).toISOString().slice(0, 10)));
    const latest = pts.map((p, i) => [i + 1, p]).reverse().slice(0, 10);
    const list = el('ul', {class: 'causes'}, latest.map(([n, p]) =>
        el('li', {}, el('span', {class: 'num'}, String(n)), ' ',
           new Date(p.time).toISOString(), ' · ', points(p.composite), ' · ',
           p.rebuild ? 'history starts here · ' : '',
           p.reason || 'no reason')));
    box.replaceChildren(svg, el('h3', {}, 'Latest moves and their causes'),
                        list);
  }

  // Who wrote a record (SignalProvenance.summary), as a data attribute the
  // console test reads: "supplier edge (8542) via georiskctl import of ...".
  function provenance(p, attribute) {
    return p && p.summary ?
        [' · ', el('span', {class: 'provenance', [attribute]: p.summary},
                   p.summary)] : [];
  }

  function renderLinks(e) {
    const direct = (e.contributions || []).filter((c) => c.direct);
    const upstream = (e.contributions || []).filter((c) => c.upstream);
    const record = e.entityProvenance && e.entityProvenance.summary;
    document.getElementById('links').replaceChildren(
        ...(record ? [el('p', {class: 'meta'}, 'This record: ',
                         el('span', {class: 'provenance',
                                     'data-entity-provenance': record},
                            record))] : []),
        el('h3', {}, 'Signals and listings on this entity'),
        direct.length ? el('ul', {}, direct.map((c) => el('li', {},
            (c.direct.provenance && c.direct.provenance.summary) ||
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
               factorName(c.factor),
               ...provenance(c.upstream.edgeProvenance,
                             'data-edge-provenance'))))) :
            el('p', {}, 'None.'));
  }

  async function load() {
    if (!id) {
      setStatus('No entity: open this page from the top risks.', true);
      return;
    }
    setStatus('Loading…');
    // With the score and explanation: the links, drawn on their own.
    const links = api('scorer', 'ListNeighbours',
                      {entityId: id, direction: 'DIRECTION_BOTH',
                       pageSize: 1000});
    links.catch(() => {});
    const score_ = api('scorer', 'GetScore', {entityId: id});
    score_.catch(() => {});
    try {
      const [score, explanation] = await Promise.all([
        score_,
        api('scorer', 'ExplainScore', {entityId: id, maxPaths: 20}),
      ]);
      renderSummary(score);
      renderFactors(score);
      renderExplanation(explanation);
      renderLinks(explanation);
      renderNeighbourhood(explanation);
      setStatus('');
    } catch (err) {
      setStatus(err.message, true);
      return;
    }
    try {
      renderLinksGraph(await score_, await links);
    } catch (err) {
      document.getElementById('links-graph').replaceChildren(
          el('p', {class: 'error'}, err.message));
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
