// georisk console: what every page shares. Plain JS, no framework, no
// inline script (the server's Content-Security-Policy allows 'self' only).
//
// The API is the protobuf JSON mapping of the gRPC methods:
//   georisk.api('scorer', 'ListTopRisks', {pageSize: 10}) -> Promise<object>
// A token from the login form is kept in this tab's sessionStorage and sent
// as "Authorization: Bearer <token>"; a 401 or 403 shows the form.
'use strict';

const georisk = (() => {
  const TOKEN_KEY = 'georisk.token';

  class ApiError extends Error {
    constructor(httpStatus, body) {
      super(body && body.message ? body.message : 'HTTP ' + httpStatus);
      this.httpStatus = httpStatus;
      this.status = body && body.status ? body.status : '';
    }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  // POSTs `body` (text) to `path`; resolves to the JSON answer, rejects
  // with an ApiError (a 401 or 403 shows the login form).
  async function post(path, body, contentType) {
    const headers = {'Content-Type': contentType};
    if (token()) headers['Authorization'] = 'Bearer ' + token();
    const response = await fetch(path, {
      method: 'POST',
      headers,
      body,
      cache: 'no-store',
      credentials: 'omit',
    });
    let answer = null;
    try {
      answer = await response.json();
    } catch (e) {
      answer = null;
    }
    if (!response.ok) {
      if (response.status === 401 || response.status === 403) showLogin();
      throw new ApiError(response.status, answer);
    }
    return answer;
  }

  function api(service, method, request) {
    return post('/api/v1/' + service + '/' + method,
                JSON.stringify(request || {}), 'application/json');
  }

  // el('a', {href: '/'}, 'text', child...): an element; strings become text
  // nodes (never parsed as HTML). SVG tags get the SVG namespace, and so
  // does any tag written 'svg:a' (a link inside a drawing).
  const SVG_TAGS = new Set(['svg', 'rect', 'line', 'polyline', 'circle',
                            'text', 'title', 'g', 'path', 'marker', 'defs']);
  function el(tag, attrs, ...children) {
    const svg = SVG_TAGS.has(tag) || tag.startsWith('svg:');
    const node = svg ?
        document.createElementNS('http://www.w3.org/2000/svg',
                                 tag.replace(/^svg:/, '')) :
        document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      node.append(typeof c === 'string' || typeof c === 'number' ?
                      document.createTextNode(String(c)) : c);
    }
    return node;
  }

  const FACTORS = {
    FACTOR_EXPORT_CONTROLS: 'export controls',
    FACTOR_TARIFFS: 'tariffs',
    FACTOR_CROSS_STRAIT: 'cross-strait',
  };
  function factorName(f) { return FACTORS[f] || f; }
  function bandName(b) { return (b || '').replace(/^BAND_/, '').toLowerCase(); }
  function kindName(k) { return (k || '').replace(/_/g, ' ').toLowerCase(); }
  // Scores: composite 0..100; factor scores 0..1 shown x 100.
  function points(x) { return Number(x || 0).toFixed(1); }

  function entityHref(id) { return '/entity.html?id=' + encodeURIComponent(id); }

  function setStatus(text, isError) {
    const s = document.getElementById('status');
    if (!s) return;
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  function showLogin() {
    const form = document.getElementById('login');
    if (form) form.hidden = false;
  }

  function initLogin(onLogin) {
    const form = document.getElementById('login');
    const logout = document.getElementById('logout');
    if (!form) return;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = document.getElementById('token').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      document.getElementById('token').value = '';
      form.hidden = true;
      logout.hidden = false;
      onLogin();
    });
    logout.hidden = !token();
    logout.addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      logout.hidden = true;
      showLogin();
    });
  }

  return {api, post, el, factorName, bandName, kindName, points, entityHref,
          setStatus, initLogin, ApiError};
})();
