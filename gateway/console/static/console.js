/* Motlan console: plain browser JavaScript, no bundler, no inline code (the page's
 * CSP forbids it). Talks to the gateway's own APIs only:
 *   /console/api/session   who is signed in (auditor or operator)
 *   /console/api/directory names for ids: clients, procedures (vi/en), provinces, tiers
 *   /stats/v1/...          statistics (gateway/stats)
 *   /audit/v1/...          the auditor API (gateway/audit): search, record, verify, export, citizen history
 * The API key is kept in sessionStorage (this tab only) and sent as a Bearer token. */
(function () {
  'use strict';

  var I18N = window.MOTLAN_I18N;
  var KEY_STORAGE = 'motlan.console.apiKey';
  var LANG_STORAGE = 'motlan.console.lang';
  var LOG_PAGE_SIZE = 50;
  var CITIZEN_PAGE_SIZE = 50;
  /** The auditor API of gateway/audit (see docs/CONSOLE.md). */
  var ROUTES = {
    records: '/audit/v1/records',
    count: '/audit/v1/count',
    record: function (instanceId, seq) { return '/audit/v1/records/' + encodeURIComponent(instanceId) + '/' + seq; },
    verify: '/audit/v1/verify',
    export: '/audit/v1/export',
    citizen: '/audit/v1/citizen-history',
  };

  var state = {
    lang: localStorage.getItem(LANG_STORAGE) || 'vi',
    session: null,
    view: 'dashboard',
    charts: {},
    dashboard: null,
    provinces: null,
    directory: null,
    log: { filter: null, cursors: [null], page: 0, items: [], next: null, selected: null },
    citizen: { filter: null, next: null },
  };

  // ---------------------------------------------------------------- helpers

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function t(key) {
    var dict = I18N[state.lang] || I18N.vi;
    return Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : (I18N.vi[key] || key);
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'className') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function locale() { return state.lang === 'en' ? 'en-GB' : 'vi-VN'; }
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  /** The Vietnamese civil date/time parts of `ms` (UTC+07:00 all year), whatever the browser's zone. */
  function vnParts(ms) {
    var d = new Date(ms + 7 * 3600e3);
    return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), hh: d.getUTCHours(), mi: d.getUTCMinutes(), ss: d.getUTCSeconds() };
  }
  /** `YYYY-MM-DD` → dd/mm/yyyy (both languages: the format of Vietnamese administrative documents). */
  function fmtDayKey(key) { return key ? key.slice(8, 10) + '/' + key.slice(5, 7) + '/' + key.slice(0, 4) : t('none'); }
  /** `YYYY-MM-DD` → dd/mm, for chart axes. */
  function fmtDayShort(key) { return key.slice(8, 10) + '/' + key.slice(5, 7); }
  function fmtDate(ms) { var p = vnParts(ms); return pad2(p.d) + '/' + pad2(p.m) + '/' + p.y; }
  /** A share in [0, 1] as a percentage. */
  function fmtShare(x) { return x === null || x === undefined || Number.isNaN(x) ? t('none') : fmtNumber(x * 100, 1) + ' %'; }
  function fmtNumber(n, digits) {
    if (n === null || n === undefined || Number.isNaN(n)) return t('none');
    return Number(n).toLocaleString(locale(), { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  /** Times are shown in Vietnam time whatever the browser's zone, like the statistics' days: dd/mm/yyyy HH:MM:SS. */
  function fmtTime(ms) {
    var p = vnParts(ms);
    return pad2(p.d) + '/' + pad2(p.m) + '/' + p.y + ' ' + pad2(p.hh) + ':' + pad2(p.mi) + ':' + pad2(p.ss);
  }
  /** `YYYY-MM-DD` for the Vietnamese day `days` days ago. */
  function vnDate(daysAgo) {
    return new Date(Date.now() + 7 * 3600e3 - daysAgo * 86400e3).toISOString().slice(0, 10);
  }
  /**
   * A date typed as dd/mm/yyyy (the Vietnamese way; a browser's date picker would follow the
   * browser's locale, often mm/dd/yyyy) or yyyy-mm-dd → `YYYY-MM-DD`; '' when empty; null when not a date.
   */
  function isoDay(value) {
    value = String(value || '').trim();
    if (!value) return '';
    var m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
    var iso = m ? m[3] + '-' + pad2(Number(m[2])) + '-' + pad2(Number(m[1])) : /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null;
    if (!iso) return null;
    var t = Date.parse(iso + 'T00:00:00Z');
    return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== iso ? null : iso;
  }
  /** A date input's value as the start of that Vietnamese day (ms), or null. */
  function dayStart(value) {
    var iso = isoDay(value);
    if (iso === null) throw new DateError(value);
    return iso ? Date.parse(iso + 'T00:00:00+07:00') : null;
  }
  /** A "to" date input is inclusive for people: the period ends at the start of the next day. */
  function dayEnd(value) { var s = dayStart(value); return s === null ? null : s + 86400e3; }
  function DateError(value) { this.message = t('err.date').replace('{value}', String(value)); }
  function registryName(r) { var k = 'reg.' + r; var s = t(k); return s === k ? r : s; }
  /** Every Vietnamese day of [from, to) as `YYYY-MM-DD`, so the time axis shows days without traffic as zeros. */
  function daysOf(from, to) {
    var out = [];
    for (var d = dayStart(vnKey(from)); d < to && out.length < 3700; d += 86400e3) out.push(vnKey(d));
    return out;
  }
  function vnKey(ms) { return new Date(ms + 7 * 3600e3).toISOString().slice(0, 10); }

  // ---------------------------------------------------------------- names for ids

  function dirFind(list, field, value) {
    var d = state.directory;
    if (!d) return null;
    for (var i = 0; i < d[list].length; i++) if (d[list][i][field] === value) return d[list][i];
    return null;
  }
  /** The group's own label from the statistics API (C3), in the reader's language, else null. */
  function apiLabel(g) {
    if (!g) return null;
    if (state.lang === 'en' && g.labelEn) return g.labelEn;
    return g.label || null;
  }
  /** A procedure's name: Vietnamese, or English in the English view when the catalog has it. */
  function procedureName(id, g) {
    if (id === null || id === undefined) return t('g.noPurpose');
    if (id === 'unknown') return t('g.unknownPurpose');
    var p = dirFind('procedures', 'id', id);
    if (state.lang === 'en') return (g && g.labelEn) || (p && p.nameEn) || (g && g.label) || (p && p.name) || id;
    return (g && g.label) || (p && p.name) || id;
  }
  /** A client system's display name, never its id (the id stays in a tooltip). */
  function clientName(id, g) {
    if (id === null || id === undefined || id === 'anonymous') return t('g.anonymous');
    var c = dirFind('clients', 'id', id);
    return (c && c.name) || (g && g.label) || id;
  }
  function provinceName(code, g) {
    if (code === null || code === undefined) return t('g.notProvince');
    if (code === 'unspecified') return t('g.unspecified');
    var p = dirFind('provinces', 'code', code);
    if (state.lang === 'en') return (g && g.labelEn) || (p && p.nameEn) || code;
    return (g && g.label) || (p && p.name) || code;
  }
  function tierName(key) {
    if (key === null || key === undefined || key === 'unspecified') return t('g.unspecified');
    var k = 'tier.' + key; var s = t(k); return s === k ? key : s;
  }
  /** A group key for charts, by kind of grouping. */
  function groupLabel(key, kind, g) {
    if (kind === 'procedure') return procedureName(key, g);
    if (kind === 'client') return clientName(key, g);
    if (kind === 'province') return provinceName(key, g);
    if (kind === 'tier') return tierName(key);
    if (key === null || key === undefined) return t('none');
    return kind === 'registry' ? registryName(key) : (apiLabel(g) || key);
  }
  /** Dossier figures of a group (C3); zeros when the API predates them. */
  function dossiersOf(g) { return (g && g.dossiers) || { served: 0, withComponentsCut: 0, requestsWithoutDossier: 0 }; }
  function fieldsOf(g) { return (g && g.fields) || { prefilled: 0, forCitizen: 0 }; }

  function loadDirectory() {
    return api('/console/api/directory').then(function (d) {
      state.directory = d;
      fillDatalists();
      return d;
    }).catch(function () { state.directory = null; });
  }
  /** Suggestions for the log filters: type a name or an id, the filter gets the id. */
  function fillDatalists() {
    var d = state.directory;
    if (!d) return;
    var clients = $('#dl-clients'), procs = $('#dl-procedures');
    clients.textContent = '';
    procs.textContent = '';
    d.clients.forEach(function (c) { clients.appendChild(el('option', { value: c.id, label: c.name })); });
    d.procedures.forEach(function (p) { procs.appendChild(el('option', { value: p.id, label: state.lang === 'en' && p.nameEn ? p.nameEn : p.name })); });
  }

  /** Runs `fn`, showing a mistyped date as an error instead of failing silently. */
  function guarded(fn) {
    try { showError(''); return fn(); } catch (e) { if (e instanceof DateError) { showError(e.message); return null; } throw e; }
  }

  function showError(message) {
    var box = $('#global-error');
    box.textContent = message;
    box.hidden = !message;
  }

  // ---------------------------------------------------------------- HTTP

  function apiKey() { return sessionStorage.getItem(KEY_STORAGE); }

  function ApiError(status, message, body) {
    this.status = status; this.message = message; this.body = body;
  }

  /** fetch with the Bearer key; JSON by default, or the raw Response when opts.raw. */
  function api(path, opts) {
    opts = opts || {};
    var headers = { accept: opts.accept || 'application/json' };
    var key = opts.key || apiKey();
    if (key) headers.authorization = 'Bearer ' + key;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, {
      method: opts.method || 'GET',
      headers: headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'omit',
      cache: 'no-store',
    }).then(function (res) {
      if (!res.ok) {
        return res.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
          var msg = (body && (body.message || (body.errors && body.errors[0] && body.errors[0].message))) || text || res.statusText;
          if (res.status === 401 && !opts.key) { signOut(t('err.session')); }
          throw new ApiError(res.status, msg, body);
        });
      }
      return opts.raw ? res : res.json();
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== null && v !== undefined && v !== '') parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  // ---------------------------------------------------------------- i18n

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t('app.title');
    $('#lang').value = state.lang;
    $all('[data-i18n]').forEach(function (node) { node.textContent = t(node.getAttribute('data-i18n')); });
    renderWho();
    fillDatalists();
    if (state.dashboard) renderDashboard(state.dashboard);
    if (state.provinces) renderProvinces(state.provinces);
    if (state.verification) renderVerification(state.verification);
    if (state.log.items.length || state.log.filter) renderLogTable();
    if (state.log.selected) renderRecord(state.log.selected);
  }

  // ---------------------------------------------------------------- session

  function renderWho() {
    var who = $('#who');
    if (!state.session) { who.hidden = true; return; }
    var roles = state.session.roles.filter(function (r) { return r !== 'client'; }).map(function (r) { return t('role.' + r); });
    who.textContent = state.session.client.name + ' (' + roles.join(', ') + ')';
    who.hidden = false;
  }

  function signIn(key) {
    return api('/console/api/session', { key: key }).then(function (session) {
      sessionStorage.setItem(KEY_STORAGE, key);
      state.session = session;
      return session;
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    state.session = null;
    Object.keys(state.charts).forEach(function (k) { state.charts[k].destroy(); });
    state.charts = {};
    state.directory = null;
    state.dashboard = null;
    state.provinces = null;
    state.verification = null;
    state.log = { filter: null, cursors: [null], page: 0, items: [], next: null, selected: null };
    $('#tabs').hidden = true;
    $('#signout').hidden = true;
    renderWho();
    $all('.view').forEach(function (v) { v.hidden = v.id !== 'view-signin'; });
    var err = $('#signin-error');
    err.textContent = message || '';
    err.hidden = !message;
    showError('');
    $('#apikey').value = '';
    $('#apikey').focus();
  }

  function enterApp() {
    $('#tabs').hidden = false;
    $('#signout').hidden = false;
    renderWho();
    var can = state.session.can || {};
    $all('.tab').forEach(function (tab) {
      var view = tab.getAttribute('data-view');
      tab.hidden = (isStatsView(view) && !can.stats) || (!isStatsView(view) && !can.auditLog);
    });
    var first = can.stats ? 'dashboard' : 'log';
    loadDirectory().then(function () { show(location.hash.replace('#', '') || first); });
  }

  function isStatsView(view) { return view === 'dashboard' || view === 'provinces'; }

  function show(view) {
    var can = (state.session && state.session.can) || {};
    if (isStatsView(view) && !can.stats) view = 'log';
    if ((view === 'log' || view === 'citizen') && !can.auditLog) view = 'dashboard';
    state.view = view;
    if (location.hash !== '#' + view) history.replaceState(null, '', '#' + view);
    $all('.view').forEach(function (v) { v.hidden = v.id !== 'view-' + view; });
    $all('.tab').forEach(function (tab) { tab.classList.toggle('active', tab.getAttribute('data-view') === view); });
    showError('');
    if (view === 'dashboard' && !state.dashboard) guarded(loadDashboard);
    if (view === 'provinces' && !state.provinces) guarded(loadProvinces);
    if (view === 'log' && !state.log.filter) { guarded(searchLog); loadVerification(); }
  }

  // ---------------------------------------------------------------- dashboard

  var PALETTE = ['#1f5fa8', '#b3261e', '#1b7f3b', '#a56300', '#7a2a7a', '#00838f', '#5d4037', '#c2185b', '#455a64', '#9e9d24'];
  var OUTCOME_COLORS = { OK: '#1b7f3b', PARTIAL: '#a56300', DENIED: '#b3261e', INVALID: '#7a2a7a', ERROR: '#5d4037', UNAUTHENTICATED: '#455a64' };

  function periodParams(fromSel, toSel) {
    var from = $(fromSel || '#d-from').value, to = $(toSel || '#d-to').value;
    return { from: dayStart(from), to: dayEnd(to) };
  }

  function summary(p, groupBy, limit) {
    return api('/stats/v1/summary' + query({ from: p.from, to: p.to, groupBy: groupBy, limit: limit || 1000 }));
  }

  function loadDashboard() {
    var p = periodParams();
    var status = $('#dash-status');
    status.textContent = t('dash.loading');
    var get = function (groupBy, limit) { return summary(p, groupBy, limit); };
    return Promise.all([get('day'), get('registry'), get('procedure'), get('client', 10), get('outcome')])
      .then(function (r) {
        state.dashboard = { day: r[0], registry: r[1], procedure: r[2], client: r[3], outcome: r[4], at: Date.now(), from: p.from, to: p.to };
        renderDashboard(state.dashboard);
      })
      .catch(function (e) {
        status.textContent = '';
        if (e.status !== 401) showError(t('err.generic') + e.message);
      });
  }

  function kpi(label, value, hint) {
    return el('div', { className: 'kpi', title: hint || '' }, [el('div', { className: 'label', text: label }), el('div', { className: 'value', text: value })]);
  }

  function chart(id, config) {
    if (state.charts[id]) state.charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false, locale: locale() }, config.options || {});
    state.charts[id] = new window.Chart(document.getElementById(id), config);
    return state.charts[id];
  }

  /** Long names (procedures, provinces) wrapped on axis ticks instead of overlapping. */
  function wrap(label, width) {
    width = width || 28;
    var words = String(label).split(' '), lines = [], line = '';
    words.forEach(function (w) {
      if (line && (line + ' ' + w).length > width) { lines.push(line); line = w; } else line = line ? line + ' ' + w : w;
    });
    if (line) lines.push(line);
    return lines.length > 3 ? lines.slice(0, 3).concat(['…']) : lines;
  }

  function renderKpis(box, rows) {
    box.textContent = '';
    rows.forEach(function (k) { box.appendChild(kpi(k[0], k[1], k[2])); });
  }

  function renderDashboard(d) {
    var total = d.day.total;
    var dos = dossiersOf(total), fields = fieldsOf(total);
    renderKpis($('#kpis'), [
      [t('k.requests'), fmtNumber(total.requests.total)],
      [t('k.dossiers'), fmtNumber(dos.served), t('k.dossiersHint')],
      [t('k.dossiersCut'), fmtNumber(dos.withComponentsCut), t('k.dossiersCutHint')],
      [t('k.noDossier'), fmtNumber(dos.requestsWithoutDossier), t('k.noDossierHint')],
      [t('k.fieldsPrefilled'), fmtNumber(fields.prefilled), t('k.fieldsPrefilledHint')],
      [t('k.fieldsForCitizen'), fmtNumber(fields.forCitizen), t('k.fieldsForCitizenHint')],
      [t('k.componentsCut'), fmtNumber(total.componentsCut)],
      [t('k.hoursSaved'), fmtNumber(total.hoursSaved, 1)],
      [t('k.valueVnd'), fmtNumber(total.valueVnd)],
      [t('k.costsVnd'), total.costsSavedVnd === undefined ? t('none') : fmtNumber(total.costsSavedVnd), t('k.costsVndHint')],
      [t('k.ok'), fmtNumber(total.requests.byOutcome.OK || 0)],
      [t('k.entities'), fmtNumber(total.entitiesShared.total)],
      [t('k.fields'), fmtNumber(total.fieldsShared)],
      [t('k.prefills'), fmtNumber(total.prefills)],
      [t('k.p95'), fmtNumber(total.latencyMs.p95, 1)],
    ]);

    // Every day of the period, days without traffic as zeros (a gap would read as "no data").
    var byDay = {};
    d.day.groups.forEach(function (g) { byDay[g.key] = g; });
    var dayKeys = daysOf(d.from, d.to);
    var day = function (k, f) { var g = byDay[k]; return g ? f(g) : 0; };
    var latency = function (k, p) { var g = byDay[k]; return g ? g.latencyMs[p] : null; };
    chart('chart-day', {
      type: 'bar',
      data: {
        labels: dayKeys.map(fmtDayShort),
        datasets: [
          { type: 'bar', label: t('s.requests'), data: dayKeys.map(function (k) { return day(k, function (g) { return g.requests.total; }); }), backgroundColor: '#1f5fa8', yAxisID: 'y' },
          { type: 'line', label: t('s.dossiers'), data: dayKeys.map(function (k) { return day(k, function (g) { return dossiersOf(g).served; }); }), borderColor: '#1b7f3b', backgroundColor: '#1b7f3b', yAxisID: 'y' },
          { type: 'line', label: t('s.entities'), data: dayKeys.map(function (k) { return day(k, function (g) { return g.entitiesShared.total; }); }), borderColor: '#b3261e', backgroundColor: '#b3261e', yAxisID: 'y1' },
        ],
      },
      options: {
        scales: { y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } },
        plugins: { tooltip: { callbacks: { title: function (items) { return items.length ? fmtDayKey(dayKeys[items[0].dataIndex]) : ''; } } } },
      },
    });

    var regs = d.registry.groups;
    chart('chart-registry', {
      type: 'bar',
      data: {
        labels: regs.map(function (g) { return groupLabel(g.key, 'registry', g); }),
        datasets: [
          { label: t('s.requests'), data: regs.map(function (g) { return g.requests.total; }), backgroundColor: '#1f5fa8' },
          { label: t('s.entities'), data: regs.map(function (g) { return g.entitiesShared.total; }), backgroundColor: '#b3261e' },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });

    var procs = d.procedure.groups;
    var procLabels = procs.map(function (g) { return wrap(procedureName(g.key, g), 40); });
    chart('chart-procedure', {
      type: 'bar',
      data: {
        labels: procLabels,
        datasets: [
          { label: t('s.requests'), data: procs.map(function (g) { return g.requests.total; }), backgroundColor: '#1f5fa8' },
          { label: t('s.dossiers'), data: procs.map(function (g) { return dossiersOf(g).served; }), backgroundColor: '#1b7f3b' },
          { label: t('s.dossiersCut'), data: procs.map(function (g) { return dossiersOf(g).withComponentsCut; }), backgroundColor: '#a56300' },
        ],
      },
      options: { indexAxis: 'y', scales: { x: { beginAtZero: true } } },
    });

    var clients = d.client.groups;
    chart('chart-clients', {
      type: 'bar',
      data: {
        labels: clients.map(function (g) { return wrap(clientName(g.key, g), 36); }),
        datasets: [{ label: t('s.requests'), data: clients.map(function (g) { return g.requests.total; }), backgroundColor: '#00838f' }],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
    });

    var outs = d.outcome.groups;
    chart('chart-outcomes', {
      type: 'doughnut',
      data: {
        labels: outs.map(function (g) { return g.key; }),
        datasets: [{ data: outs.map(function (g) { return g.requests.total; }), backgroundColor: outs.map(function (g) { return OUTCOME_COLORS[g.key] || '#999'; }) }],
      },
      options: { plugins: { legend: { position: 'right' } } },
    });

    var cut = procs.filter(function (g) { return g.prefills > 0; });
    chart('chart-savings', {
      type: 'bar',
      data: {
        labels: cut.map(function (g) { return wrap(procedureName(g.key, g), 24); }),
        datasets: [
          { label: t('s.componentsCut'), data: cut.map(function (g) { return g.componentsCut; }), backgroundColor: '#1b7f3b', yAxisID: 'y' },
          { label: t('s.hoursSaved'), data: cut.map(function (g) { return g.hoursSaved; }), backgroundColor: '#a56300', yAxisID: 'y1' },
        ],
      },
      options: { scales: { y: { beginAtZero: true, position: 'left' }, y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false } } } },
    });

    chart('chart-fields', {
      type: 'bar',
      data: {
        labels: cut.map(function (g) { return wrap(procedureName(g.key, g), 24); }),
        datasets: [
          { label: t('s.fieldsPrefilled'), data: cut.map(function (g) { return fieldsOf(g).prefilled; }), backgroundColor: '#1f5fa8' },
          { label: t('s.fieldsForCitizen'), data: cut.map(function (g) { return fieldsOf(g).forCitizen; }), backgroundColor: '#9e9d24' },
        ],
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
    });

    chart('chart-latency', {
      type: 'line',
      data: {
        labels: dayKeys.map(fmtDayShort),
        datasets: ['p50', 'p95', 'p99'].map(function (p, i) {
          return { label: p, data: dayKeys.map(function (k) { return latency(k, p); }), borderColor: PALETTE[i], backgroundColor: PALETTE[i], spanGaps: true };
        }),
      },
      options: { scales: { y: { beginAtZero: true } } },
    });

    $('#dash-status').textContent = t('dash.period') + fmtDate(d.from) + ' – ' + fmtDate(d.to - 1) + ' · ' + t('dash.updated') + fmtTime(d.at);
  }

  // ---------------------------------------------------------------- tiers, provinces and the ranking

  var RANK_LIMIT = 5;

  function loadProvinces() {
    var p = periodParams('#p-from', '#p-to');
    var status = $('#prov-status');
    status.textContent = t('dash.loading');
    var ranking = function (by) {
      return api('/stats/v1/ranking' + query({ from: p.from, to: p.to, by: by, limit: RANK_LIMIT })).catch(function (e) {
        if (e.status === 401) throw e;
        return { error: e.message };
      });
    };
    return Promise.all([summary(p, 'tier'), summary(p, 'province'), ranking('dossiers'), ranking('cutShare')])
      .then(function (r) {
        state.provinces = { tier: r[0], province: r[1], byDossiers: r[2], byCutShare: r[3], at: Date.now(), from: p.from, to: p.to };
        renderProvinces(state.provinces);
      })
      .catch(function (e) {
        status.textContent = '';
        if (e.status !== 401) showError(t('err.generic') + e.message);
      });
  }

  function shareOf(g) { var d = dossiersOf(g); return d.served ? d.withComponentsCut / d.served : null; }

  function renderProvinces(d) {
    var tiers = d.tier.groups;
    var tbody = $('#tier-table tbody');
    tbody.textContent = '';
    tiers.forEach(function (g) {
      var dos = dossiersOf(g);
      tbody.appendChild(el('tr', { 'data-key': String(g.key) }, [
        el('td', { text: tierName(g.key) }),
        el('td', { className: 'num', text: fmtNumber(g.requests.total) }),
        el('td', { className: 'num', text: fmtNumber(dos.served) }),
        el('td', { className: 'num', text: fmtNumber(dos.withComponentsCut) }),
        el('td', { className: 'num', text: fmtShare(shareOf(g)) }),
        el('td', { className: 'num', text: fmtNumber(fieldsOf(g).prefilled) }),
        el('td', { className: 'num', text: fmtNumber(g.hoursSaved, 1) }),
      ]));
    });
    if (!tiers.length) tbody.appendChild(el('tr', {}, [el('td', { colspan: '7', className: 'muted', text: t('prov.none') })]));

    // Provinces only: clients of ministries (key null) are in the tier table, not among the provinces.
    var provs = d.province.groups.filter(function (g) { return g.key !== null && g.key !== 'unspecified'; })
      .sort(function (a, b) { return dossiersOf(b).served - dossiersOf(a).served; });
    chart('chart-province', {
      type: 'bar',
      data: {
        labels: provs.map(function (g) { return provinceName(g.key, g); }),
        datasets: [
          { label: t('s.dossiers'), data: provs.map(function (g) { return dossiersOf(g).served; }), backgroundColor: '#1f5fa8' },
          { label: t('s.dossiersCut'), data: provs.map(function (g) { return dossiersOf(g).withComponentsCut; }), backgroundColor: '#1b7f3b' },
        ],
      },
      options: { indexAxis: 'y', scales: { x: { beginAtZero: true } } },
    });

    renderRanking('#rank-dossiers', d.byDossiers, 'dossiers');
    renderRanking('#rank-cut', d.byCutShare, 'cutShare');
    $('#prov-status').textContent = t('dash.period') + fmtDate(d.from) + ' – ' + fmtDate(d.to - 1) + ' · ' + t('dash.updated') + fmtTime(d.at);
  }

  /** Top and bottom provinces, like the weekly report: rank, province, dossiers, with components cut, share. */
  function renderRanking(sel, r, by) {
    var box = $(sel);
    box.textContent = '';
    if (!r || r.error) {
      box.appendChild(el('p', { className: 'muted', text: t('rank.unavailable') + ((r && r.error) || '') }));
      return;
    }
    [['top', t('rank.top')], ['bottom', t('rank.bottom')]].forEach(function (part) {
      var rows = r[part[0]] || [];
      var table = el('table', { className: 'rank ' + part[0] }, [
        el('caption', { text: part[1] }),
        el('thead', {}, [el('tr', {}, [
          el('th', { text: '#' }), el('th', { text: t('col.province') }),
          el('th', { className: 'num' + (by === 'dossiers' ? ' key' : ''), text: t('col.rankDossiers') }),
          el('th', { className: 'num', text: t('col.rankCut') }),
          el('th', { className: 'num' + (by === 'cutShare' ? ' key' : ''), text: t('col.cutShare') }),
        ])]),
      ]);
      var tb = el('tbody');
      rows.forEach(function (e, i) {
        tb.appendChild(el('tr', { 'data-province': e.provinceCode }, [
          el('td', { text: String(i + 1) }),
          el('td', { text: provinceName(e.provinceCode, e) }),
          el('td', { className: 'num', text: fmtNumber(e.dossiers) }),
          el('td', { className: 'num', text: fmtNumber(e.withComponentsCut) }),
          el('td', { className: 'num', text: fmtShare(e.cutShare) }),
        ]));
      });
      if (!rows.length) tb.appendChild(el('tr', {}, [el('td', { colspan: '5', className: 'muted', text: t('prov.none') })]));
      table.appendChild(tb);
      box.appendChild(el('div', { className: 'table-wrap' }, [table]));
    });
  }

  // ---------------------------------------------------------------- audit log

  function logFilterFromForm() {
    var f = new FormData($('#log-form'));
    var v = function (k) { var x = f.get(k); return x === null ? '' : String(x).trim(); };
    return {
      from: dayStart(v('from')), to: dayEnd(v('to')), client: v('client'), agency: v('agency'), procedure: v('procedure'),
      registry: v('registry'), outcome: v('outcome'), personalId: v('personalId'),
    };
  }

  /** The auditor API filter as query parameters (the personal ID travels in a header, never in a URL). */
  function auditParams(filter) {
    return { from: filter.from, to: filter.to, clientId: filter.client, agency: filter.agency, procedureId: filter.procedure, registry: filter.registry, outcome: filter.outcome };
  }
  function auditHeaders(filter) {
    return filter.personalId ? { 'x-subject-personal-id': filter.personalId } : {};
  }

  function auditFetch(path, filter, extra) {
    var headers = Object.assign({ accept: (extra && extra.accept) || 'application/json', authorization: 'Bearer ' + apiKey() }, auditHeaders(filter));
    return fetch(path, { headers: headers, credentials: 'omit', cache: 'no-store' }).then(function (res) {
      if (!res.ok) {
        return res.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
          var msg = (body && (body.message || (body.errors && body.errors[0] && body.errors[0].message))) || text || res.statusText;
          if (res.status === 401) signOut(t('err.session'));
          throw new ApiError(res.status, msg, body);
        });
      }
      return extra && extra.raw ? res : res.json();
    });
  }

  function searchLog() {
    var filter = logFilterFromForm();
    if (filter.personalId && !/^\d{12}$/.test(filter.personalId)) { showError(t('log.badPersonalId')); return; }
    showError('');
    state.log = { filter: filter, cursors: [null], page: 0, items: [], next: null, selected: null, total: null };
    $('#record').hidden = true;
    loadLogPage();
    auditFetch(ROUTES.count + query(auditParams(filter)), filter).then(function (r) {
      state.log.total = r.count;
      renderLogCount();
    }).catch(function () { /* the table shows the error */ });
  }

  function loadLogPage() {
    var lg = state.log;
    var params = auditParams(lg.filter);
    params.limit = LOG_PAGE_SIZE;
    params.cursor = lg.cursors[lg.page];
    return auditFetch(ROUTES.records + query(params), lg.filter).then(function (r) {
      lg.items = r.items;
      lg.next = r.nextCursor || null;
      renderLogTable();
    }).catch(function (e) { if (e.status !== 401) showError(t('err.generic') + e.message); });
  }

  function renderLogCount() {
    var lg = state.log;
    var text = lg.total === null || lg.total === undefined ? '' : t('log.count') + fmtNumber(lg.total) + t('log.shown') + (lg.page + 1);
    $('#log-count').textContent = lg.items.length === 0 && lg.filter ? t('log.none') : text;
  }

  function outcomePill(outcome) { return el('span', { className: 'pill ' + outcome, text: outcome }); }

  function renderLogTable() {
    var tbody = $('#log-table tbody');
    tbody.textContent = '';
    state.log.items.forEach(function (r) {
      var tr = el('tr', { 'data-instance': r.instanceId, 'data-seq': String(r.seq), tabindex: '0' }, [
        el('td', { text: String(r.seq) }),
        el('td', { text: fmtTime(r.ts) }),
        el('td', { text: clientName(r.clientId), title: r.clientId, 'data-id': r.clientId }),
        el('td', { text: r.agency }),
        el('td', { text: r.procedureId ? procedureName(r.procedureId) : t('none'), title: r.procedureId || '', 'data-id': r.procedureId || '' }),
        el('td', { text: r.registries.map(registryName).join(', ') || t('none') }),
        el('td', {}, [outcomePill(r.outcome)]),
        el('td', { className: 'codes', text: (r.errorCodes || []).join(', ') || t('none') }),
        el('td', { className: 'num', text: fmtNumber(r.durationMs, 1) }),
      ]);
      if (state.log.selected && state.log.selected.instanceId === r.instanceId && state.log.selected.seq === r.seq) tr.className = 'selected';
      tbody.appendChild(tr);
    });
    $('#log-first').disabled = state.log.page === 0;
    $('#log-next').disabled = !state.log.next;
    renderLogCount();
  }

  function openRecord(instanceId, seq) {
    return auditFetch(ROUTES.record(instanceId, seq), {}).then(function (r) {
      state.log.selected = r.record || r;
      state.log.integrity = r.integrity || null;
      renderRecord(state.log.selected);
      renderLogTable();
    }).catch(function (e) { if (e.status !== 401) showError(t('err.generic') + e.message); });
  }

  function renderRecord(r) {
    var dl = $('#record-fields');
    dl.textContent = '';
    var rows = [
      [t('rec.instance'), r.instanceId + ' / #' + r.seq],
      [t('col.time'), fmtTime(r.ts) + ' (' + new Date(r.ts).toISOString() + ')'],
      [t('rec.requestId'), r.requestId],
      [t('col.client'), clientName(r.clientId) + ' (' + r.clientId + ') — ' + r.agency],
      [t('rec.operation'), [r.operationType, r.operationName].filter(Boolean).join(' ') || t('none')],
      [t('rec.purpose'), (r.procedureId ? procedureName(r.procedureId) + ' (' + r.procedureId + ')' : t('none')) + ' / ' + (r.dossierId || t('none'))],
      [t('rec.subjects'), r.subjects.map(function (s) { return s.kind + ':' + s.role + ' ' + s.hmac.slice(0, 16) + '…'; }).join(', ') || t('none')],
      [t('col.registries'), r.registries.map(registryName).join(', ') || t('none')],
      [t('rec.fields'), r.fields.join(', ') || t('none')],
      [t('rec.entities'), Object.keys(r.entities).map(function (k) { return registryName(k) + ': ' + r.entities[k]; }).join(', ') || t('none')],
      [t('col.outcome'), r.outcome],
      [t('rec.errors'), r.errorCodes.join(', ') || t('none')],
      [t('rec.http'), r.httpStatus + ' / ' + fmtNumber(r.durationMs, 1) + ' ms / ' + (r.responseBytes === null ? t('none') : fmtNumber(r.responseBytes) + ' B')],
      [t('rec.prefill'), r.prefill ? JSON.stringify(r.prefill) : t('none')],
      [t('rec.hash'), r.prevHash.slice(0, 16) + '… → ' + r.hash.slice(0, 16) + '…'],
    ];
    var integrity = state.log.integrity;
    if (integrity) {
      var okHash = integrity.hashMatches ? t('rec.hashOk') : t('rec.hashBad');
      var link = integrity.linksToPrevious === null ? t('rec.linkUnknown') : integrity.linksToPrevious ? t('rec.linkOk') : t('rec.linkBad');
      rows.push([t('rec.integrity'), okHash + ' · ' + link]);
    }
    rows.forEach(function (row) {
      dl.appendChild(el('dt', { text: row[0] }));
      dl.appendChild(el('dd', { text: row[1] }));
    });
    $('#record-json').textContent = JSON.stringify(r, null, 2);
    $('#record').hidden = false;
    if ($('#record').scrollIntoView) $('#record').scrollIntoView({ block: 'nearest' });
  }

  function loadVerification() {
    var box = $('#verify');
    box.className = 'card verify';
    box.textContent = t('v.checking');
    state.verification = null;
    auditFetch(ROUTES.verify, {}).then(function (v) {
      state.verification = v;
      renderVerification(v);
    }).catch(function (e) {
      box.className = 'card verify bad';
      box.textContent = t('v.unavailable') + e.message;
    });
  }

  /** `{name}` placeholders of a translated string filled from `params`. */
  function fill(text, params) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return params[k] === undefined ? m : typeof params[k] === 'number' ? fmtNumber(params[k]) : String(params[k]); });
  }

  /** A verification notice (gateway/audit/verify.ts, VerifyNotice) in the reader's language; commands stay as they are typed. */
  function noticeText(n) {
    var key = 'v.n.' + n.code;
    var text = t(key);
    return text === key ? null : fill(text, n);
  }

  function renderVerification(v) {
    var box = $('#verify');
    box.textContent = '';
    var ok = v.ok !== false;
    box.className = 'card verify ' + (ok ? 'ok' : 'bad');
    box.appendChild(el('div', { className: 'title', text: ok ? t('v.ok') : t('v.bad') }));
    if (v.verifiedAt) box.appendChild(el('div', { className: 'muted', text: t('v.at') + fmtTime(Date.parse(v.verifiedAt)) }));
    (v.chains || v.instances || []).forEach(function (c) {
      var line = t('v.instance') + ' ' + c.instanceId + ': ' + fmtNumber(c.records) + t('v.records');
      if (c.lastCheckpointSeq !== undefined && c.lastCheckpointSeq !== null) line += ', ' + t('v.checkpoint') + c.lastCheckpointSeq;
      if (c.unsignedTail) line += ', ' + fmtNumber(c.unsignedTail) + t('v.unsigned');
      if (c.firstBad) {
        var kind = t('v.kind.' + c.firstBad.kind);
        line += ' — ' + t('v.firstBad') + '#' + c.firstBad.seq + ' (' + (kind === 'v.kind.' + c.firstBad.kind || state.lang === 'en' ? c.firstBad.reason : kind) + ')';
      }
      box.appendChild(el('div', { className: c.ok === false ? 'error' : 'muted', text: line }));
    });
    // Structured notices, translated; the English text of `warnings` only for a notice this page does not know.
    var notices = v.notices || [];
    var known = notices.map(noticeText);
    (v.warnings || []).forEach(function (w, i) {
      var text = known[i] || (state.lang === 'en' || !notices[i] ? w : null);
      if (text) box.appendChild(el('div', { className: 'muted notice', text: '⚠ ' + text }));
    });
  }

  function exportLog(format) {
    var filter = state.log.filter || logFilterFromForm();
    var params = auditParams(filter);
    params.format = format;
    return auditFetch(ROUTES.export + query(params), filter, { raw: true, accept: format === 'csv' ? 'text/csv' : 'application/x-ndjson' })
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var name = 'motlan-audit-' + new Date().toISOString().replace(/[:.]/g, '-') + (format === 'csv' ? '.csv' : '.jsonl');
        var url = URL.createObjectURL(blob);
        var a = el('a', { href: url, download: name });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        $('#log-count').textContent = t('log.exported') + name;
      })
      .catch(function (e) { if (e.status !== 401) showError(t('err.generic') + e.message); });
  }

  // ---------------------------------------------------------------- citizen history

  function searchCitizen(more) {
    var f = new FormData($('#citizen-form'));
    var personalId = String(f.get('personalId') || '').trim();
    if (!/^\d{12}$/.test(personalId)) { showError(t('log.badPersonalId')); return; }
    showError('');
    var filter = { personalId: personalId, from: dayStart(String(f.get('from') || '')), to: dayEnd(String(f.get('to') || '')) };
    var params = { from: filter.from, to: filter.to, limit: CITIZEN_PAGE_SIZE, cursor: more ? state.citizen.next : null };
    var tbody = $('#citizen-table tbody');
    if (!more) tbody.textContent = '';
    auditFetch(ROUTES.citizen + query(params), filter).then(function (r) {
      state.citizen = { filter: filter, next: r.nextCursor || null };
      r.items.forEach(function (a) {
        tbody.appendChild(el('tr', {}, [
          el('td', { text: fmtTime(a.ts) }),
          el('td', { text: a.agency }),
          el('td', { text: a.clientName || clientName(a.clientId) }),
          el('td', { text: a.procedureId ? (state.lang === 'en' ? procedureName(a.procedureId) : a.procedureName || procedureName(a.procedureId)) + ' (' + a.procedureId + ')' : t('none') }),
          el('td', { text: (a.registries || []).map(registryName).join(', ') || t('none') }),
          el('td', { text: a.relation === 'related' ? t('cit.related') : t('cit.subject') }),
          el('td', {}, [outcomePill(a.outcome)]),
        ]));
      });
      if (!more && r.items.length === 0) tbody.appendChild(el('tr', {}, [el('td', { colspan: '7', className: 'muted', text: t('cit.none') })]));
      $('#citizen-more').hidden = !state.citizen.next;
    }).catch(function (e) { if (e.status !== 401) showError(t('err.generic') + e.message); });
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $('#d-from').value = fmtDayKey(vnDate(29));
    $('#d-to').value = fmtDayKey(vnDate(0));
    $('#p-from').value = fmtDayKey(vnDate(6));
    $('#p-to').value = fmtDayKey(vnDate(0));
    applyLanguage();

    $('#lang').addEventListener('change', function () {
      state.lang = this.value;
      localStorage.setItem(LANG_STORAGE, state.lang);
      applyLanguage();
    });
    $('#signin-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var key = $('#apikey').value.trim();
      var err = $('#signin-error');
      err.hidden = true;
      signIn(key).then(enterApp).catch(function (e) {
        err.textContent = e.status === 401 ? t('signin.badKey') : e.status === 403 ? t('signin.forbidden') : t('signin.failed') + e.message;
        err.hidden = false;
      });
    });
    $('#signout').addEventListener('click', function () { signOut(''); });
    $all('.tab').forEach(function (tab) { tab.addEventListener('click', function () { show(tab.getAttribute('data-view')); }); });
    $('#period-form').addEventListener('submit', function (ev) { ev.preventDefault(); guarded(loadDashboard); });
    $('#prov-form').addEventListener('submit', function (ev) { ev.preventDefault(); guarded(loadProvinces); });

    $('#log-form').addEventListener('submit', function (ev) { ev.preventDefault(); guarded(searchLog); });
    $('#log-form').addEventListener('reset', function () { setTimeout(function () { guarded(searchLog); }, 0); });
    $('#log-first').addEventListener('click', function () { state.log.page = 0; loadLogPage(); });
    $('#log-next').addEventListener('click', function () {
      if (!state.log.next) return;
      state.log.cursors[state.log.page + 1] = state.log.next;
      state.log.page += 1;
      loadLogPage();
    });
    $('#log-table tbody').addEventListener('click', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr && tr.getAttribute('data-seq')) openRecord(tr.getAttribute('data-instance'), Number(tr.getAttribute('data-seq')));
    });
    $('#log-table tbody').addEventListener('keydown', function (ev) {
      var tr = ev.target.closest('tr');
      if (tr && ev.key === 'Enter') openRecord(tr.getAttribute('data-instance'), Number(tr.getAttribute('data-seq')));
    });
    $('#record-close').addEventListener('click', function () { $('#record').hidden = true; state.log.selected = null; renderLogTable(); });
    $('#export-csv').addEventListener('click', function () { exportLog('csv'); });
    $('#export-jsonl').addEventListener('click', function () { exportLog('jsonl'); });
    $('#citizen-form').addEventListener('submit', function (ev) { ev.preventDefault(); guarded(function () { searchCitizen(false); }); });
    $('#citizen-more').addEventListener('click', function () { searchCitizen(true); });

    var key = apiKey();
    if (key) {
      signIn(key).then(enterApp).catch(function () { signOut(''); });
    } else {
      signOut('');
    }
  }

  init();
})();
