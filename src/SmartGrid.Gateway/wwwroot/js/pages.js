import * as api from './api.js';
import { h, time, number, SEVERITIES } from './format.js';
import { timeChart } from './charts.js';

const OPS = ['OPERATOR', 'ADMIN'];
const HOUR = 3600 * 1000;
// The AlertManager's default (SmartGrid:Services:Alerts:OverloadThresholdPercent); the routes do not expose it.
const OVERLOAD_PERCENT = 85;
const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString();
const iso = (ms) => new Date(ms).toISOString();
const epoch = (isoText) => Date.parse(isoText) / 1000;
const enc = encodeURIComponent;

const table = (caption, headings, rows, attrs = {}) =>
  h('div', { class: 'scroll' }, h('table', attrs, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));

const severityBadge = (s) => h('span', { class: `sev sev-${s}` }, s);

function alertCounts(alerts) {
  const byRegion = new Map();
  for (const a of alerts) {
    const counts = byRegion.get(a.region) ?? Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    counts[a.severity] = (counts[a.severity] ?? 0) + 1;
    byRegion.set(a.region, counts);
  }
  return byRegion;
}

async function allPages(path, params = {}) {
  const items = [];
  for (let offset = 0; ; ) {
    const page = await api.get(`${path}?${q({ ...params, limit: 200, offset })}`);
    items.push(...page.items);
    offset += page.items.length;
    if (!page.items.length || offset >= page.total) return items;
  }
}

async function regionLoad(region, hours, resolution) {
  const to = Date.now();
  const page = await api.get(`/grid/regions/${enc(region)}/load?${q({ from: iso(to - hours * HOUR), to: iso(to), resolution, limit: 1000 })}`);
  return page.items;
}

function loadChart(container, title, loads, hours) {
  const to = Date.now();
  timeChart(container, {
    title, unit: 'load %', from: to - hours * HOUR, to,
    series: loads.map(({ region, items }) => ({ label: region, points: items.map((w) => [epoch(w.window_start), w.load_percentage]) })),
    lines: [{ label: 'capacity (100 %)', value: 100, colour: '#555' }, { label: `overload (${OVERLOAD_PERCENT} %)`, value: OVERLOAD_PERCENT, colour: '#c00' }],
  });
}

// ---------------------------------------------------------------- grid overview
async function overview(target, _, { onLive, announce }) {
  const [grid, active] = await Promise.all([api.get('/grid/regions'), allPages('/alerts/operator/active')]);
  let counts = alertCounts(active);
  const rows = new Map();

  const loadCell = (load) => load ? h('span', {}, `${number(load.load_percentage)} %`) : '–';
  const completeness = (load) => {
    // Window completeness (meters reported ÷ expected) where the gateway gives it.
    if (!load || load.complete === undefined) return h('span', { class: 'muted' }, 'n/a');
    const ratio = load.meters_expected ? `${load.meter_count}/${load.meters_expected}` : '';
    return h('span', {}, `${load.complete ? 'complete' : 'partial'} ${ratio}`);
  };
  const alertCell = (region) => {
    const c = counts.get(region);
    if (!c) return h('span', { class: 'muted' }, 'none');
    return h('span', { class: 'sevs' }, SEVERITIES.filter((s) => c[s]).map((s) => h('span', { class: `sev sev-${s}`, title: `${c[s]} ${s}` }, `${c[s]} ${s}`)));
  };
  const render = (r) => {
    const tr = h('tr', { dataset: { region: r.region, loadPercent: r.load ? String(r.load.load_percentage) : '' } },
      h('th', { scope: 'row' }, h('a', { href: `#/region/${enc(r.region)}` }, r.region)),
      h('td', { class: 'num load' }, loadCell(r.load)),
      h('td', {}, r.load ? time(r.load.window_start) : '–'),
      h('td', {}, completeness(r.load)),
      h('td', { class: 'num' }, r.load ? `${number(r.load.capacity_kw, 0)} kW` : '–'),
      h('td', { class: 'num price' }, r.price_per_kwh != null ? `₹${number(r.price_per_kwh, 2)}/kWh` : '–'),
      h('td', {}, r.price_reason ?? '–'),
      h('td', { class: 'alerts' }, alertCell(r.region)));
    if (r.load && r.load.load_percentage >= OVERLOAD_PERCENT) tr.classList.add('overload');
    rows.set(r.region, { row: r, tr });
    return tr;
  };
  const body = grid.items.map(render);
  const chart = h('figure', { class: 'chart' }, h('div', { class: 'plot' }),
    h('figcaption', {}, `Load of each region over the last 24 h (15-minute windows) against capacity, with the overload line at ${OVERLOAD_PERCENT} %.`));
  target.replaceChildren(
    h('h1', {}, 'Grid overview'),
    table('Regions: load of the newest 1-minute window, capacity, price in force and open alerts',
      ['Region', 'Load', 'Window', 'Completeness', 'Capacity', 'Price', 'Tier', 'Open alerts'], body, { id: 'regions' }),
    chart);
  const loads = await Promise.all(grid.items.map(async (r) => ({ region: r.region, items: await regionLoad(r.region, 24, '15m') })));
  loadChart(chart.querySelector('.plot'), 'Load vs capacity, 24 h', loads, 24);

  const replace = (region) => {
    const entry = rows.get(region);
    if (!entry) return;
    const tr = render(entry.row);
    entry.tr.replaceWith(tr);
    rows.get(region).tr = tr;
  };
  onLive(async (kind, data) => {
    if (kind === 'region_window' && data.window_size === '1m') {
      const entry = rows.get(data.region);
      if (!entry) return;
      const shown = entry.row.load;
      if (shown && Date.parse(data.window_start) < Date.parse(shown.window_start)) return;
      entry.row.load = { ...(shown ?? {}), window_start: data.window_start, load_percentage: data.load_percentage,
        total_power_kw: data.total_power_kw, capacity_kw: data.capacity_kw, meter_count: data.meter_count };
      replace(data.region);
      // When the screen showed it: the measure of "window to screen".
      rows.get(data.region).tr.dataset.updatedAt = String(Date.now());
    } else if (kind === 'alert') {
      counts = alertCounts(await allPages('/alerts/operator/active'));
      for (const region of rows.keys()) replace(region);
      announce(`Alert ${data.event}: ${data.alert?.severity} ${data.alert?.type} in ${data.alert?.region}`);
    } else if (kind === 'tariff') {
      const entry = rows.get(data.region);
      if (!entry) return;
      entry.row.price_per_kwh = data.new_price ?? data.price_per_kwh;
      entry.row.price_reason = data.reason ?? entry.row.price_reason;
      replace(data.region);
    }
  });
}

// ---------------------------------------------------------------- region
async function region(target, [name]) {
  const [loads1m, loads15m, alerts] = await Promise.all([
    regionLoad(name, 6, '1m'), regionLoad(name, 24, '15m'), allPages('/alerts/operator/active', { region: name })]);
  const search = h('form', { class: 'inline', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const id = e.target.elements.meter.value.trim().toUpperCase();
    if (id) location.hash = `#/meter/${enc(id)}`;
  } }, h('label', { for: 'meter-search' }, 'Meter id'),
  h('input', { id: 'meter-search', name: 'meter', placeholder: 'MTR-00000001', pattern: 'MTR-[0-9]{8}', required: true }),
  h('button', { type: 'submit' }, 'Open meter'));
  const latest = loads1m.at(-1);
  const c1 = h('div', { class: 'plot' }), c15 = h('div', { class: 'plot' });
  target.replaceChildren(
    h('h1', {}, `Region ${name}`),
    h('p', {}, latest ? ['Newest 1-minute window: ', h('strong', {}, `${number(latest.load_percentage)} %`), ` of ${number(latest.capacity_kw, 0)} kW, ${latest.meter_count} meters reporting, `, time(latest.window_start)] : 'No windows in the last 6 h.'),
    search,
    h('figure', { class: 'chart' }, c1, h('figcaption', {}, 'Load, last 6 h, 1-minute windows')),
    h('figure', { class: 'chart' }, c15, h('figcaption', {}, 'Load, last 24 h, 15-minute windows')),
    alertTable(`Open alerts in ${name}`, alerts, false));
  loadChart(c1, `${name}: 6 h`, [{ region: name, items: loads1m }], 6);
  loadChart(c15, `${name}: 24 h`, [{ region: name, items: loads15m }], 24);
}

// ---------------------------------------------------------------- meter
async function meter(target, [id]) {
  const to = Date.now();
  const [status, w1, w15] = await Promise.all([
    api.get(`/meters/${enc(id)}/status`).catch((e) => ({ error: e.message })),
    api.get(`/meters/${enc(id)}/aggregates?${q({ resolution: '1m', from: iso(to - 6 * HOUR), to: iso(to), limit: 1000 })}`),
    api.get(`/meters/${enc(id)}/aggregates?${q({ resolution: '15m', from: iso(to - 24 * HOUR), to: iso(to), limit: 1000 })}`),
  ]);
  const perDay = new Map();
  for (const w of w15.items) {
    const day = new Date(w.window_start).toLocaleDateString();
    perDay.set(day, (perDay.get(day) ?? 0) + w.energy_kwh_sum);
  }
  const charts = ['Power 1m', 'Voltage 1m', 'Power 15m', 'Voltage 15m'].map(() => h('div', { class: 'plot' }));
  const statusList = status.error
    ? h('p', { class: 'muted' }, `Live state not available: ${status.error}`)
    : h('dl', { class: 'facts' }, Object.entries(status).filter(([, v]) => typeof v !== 'object').flatMap(([k, v]) =>
      [h('dt', {}, k.replaceAll('_', ' ')), h('dd', {}, /_at$|timestamp|window_start/.test(k) && v ? time(v) : String(v))]));
  target.replaceChildren(
    h('h1', {}, `Meter ${id}`), statusList,
    ...charts.map((c, i) => h('figure', { class: 'chart' }, c, h('figcaption', {}, ['Power, 6 h of 1-minute windows', 'Voltage, 6 h of 1-minute windows (band shaded: 230 V ± 10 %)', 'Power, 24 h of 15-minute windows', 'Voltage, 24 h of 15-minute windows'][i]))),
    table('Energy per day (kWh)', ['Day', 'Energy'], [...perDay].map(([d, e]) => h('tr', {}, h('td', {}, d), h('td', { class: 'num' }, number(e, 3))))));
  const band = { label: 'voltage band', low: 207, high: 253 };
  const pts = (items, f) => items.map((w) => [epoch(w.window_start), f(w)]);
  timeChart(charts[0], { from: to - 6 * HOUR, to, title: 'Power (1m)', unit: 'kW', series: [{ label: 'avg kW', points: pts(w1.items, (w) => w.power_kw_avg) }, { label: 'max kW', points: pts(w1.items, (w) => w.power_kw_max) }] });
  timeChart(charts[1], { from: to - 6 * HOUR, to, title: 'Voltage (1m)', unit: 'V', series: [{ label: 'avg V', points: pts(w1.items, (w) => w.voltage_avg) }], band });
  timeChart(charts[2], { from: to - 24 * HOUR, to, title: 'Power (15m)', unit: 'kW', series: [{ label: 'avg kW', points: pts(w15.items, (w) => w.power_kw_avg) }] });
  timeChart(charts[3], { from: to - 24 * HOUR, to, title: 'Voltage (15m)', unit: 'V', series: [{ label: 'avg V', points: pts(w15.items, (w) => w.voltage_avg) }], band });
}

// ---------------------------------------------------------------- alerts
function alertTable(caption, alerts, actions, onChange) {
  const rows = alerts.map((a) => {
    const buttons = actions ? h('td', { class: 'actions' },
      a.status === 'active' ? h('button', { type: 'button', dataset: { action: 'acknowledge' }, onclick: () => transition(a, 'acknowledge', onChange) }, 'Acknowledge') : null,
      a.status !== 'resolved' ? h('button', { type: 'button', dataset: { action: 'resolve' }, onclick: () => transition(a, 'resolve', onChange) }, 'Resolve') : null,
      h('button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => timeline(a, e.currentTarget) }, 'Timeline')) : null;
    return h('tr', { dataset: { alertId: a.alert_id, status: a.status } },
      h('td', {}, severityBadge(a.severity)), h('td', {}, a.type), h('td', {}, a.region), h('td', { class: 'nowrap' }, a.meter_id ?? '–'),
      h('td', {}, a.message), h('td', { class: 'status' }, a.status), h('td', {}, time(a.created_at)), buttons);
  });
  return table(caption, ['Severity', 'Type', 'Region', 'Meter', 'Message', 'Status', 'Raised', ...(actions ? ['Actions'] : [])], rows, { class: 'alerts-table' });
}

async function transition(alert, action, onChange) {
  try {
    await api.request('PUT', `/alerts/operator/${enc(alert.alert_id)}/${action}`);
    document.getElementById('live').textContent = `Alert ${action === 'resolve' ? 'resolved' : 'acknowledged'}.`;
  } catch (e) {
    document.getElementById('live').textContent = `Could not ${action}: ${e.message}`;
  }
  await onChange?.();
}

async function timeline(alert, button) {
  const row = button.closest('tr');
  if (row.nextElementSibling?.classList.contains('timeline')) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const detail = await api.get(`/alerts/operator/${enc(alert.alert_id)}`);
  const list = h('ol', {}, detail.events.map((e) => h('li', {}, time(e.at), ` ${e.action}`, e.actor ? ` by ${e.actor}` : '')));
  row.after(h('tr', { class: 'timeline' }, h('td', { colspan: '8' }, list)));
  button.setAttribute('aria-expanded', 'true');
}

async function alerts(target, _, { onLive }) {
  const grid = await api.get('/grid/regions');
  const select = (name, label, options) => h('span', { class: 'field' }, h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name }, h('option', { value: '' }, 'any'), options.map((o) => h('option', { value: o }, o))));
  const filters = h('form', { class: 'inline filters', 'aria-label': 'Filter alerts' },
    select('region', 'Region', grid.items.map((r) => r.region)), select('type', 'Type', ['ANOMALY', 'THRESHOLD', 'OUTAGE']),
    select('severity', 'Severity', SEVERITIES), h('span', { class: 'field' }, h('label', { for: 'f-status' }, 'Show'),
      h('select', { id: 'f-status', name: 'status' }, h('option', { value: '' }, 'open (active and acknowledged)'),
        h('option', { value: 'active' }, 'active'), h('option', { value: 'acknowledged' }, 'acknowledged'),
        h('option', { value: 'all' }, 'history (all, resolved too)'))));
  const list = h('div', {});
  const load = async () => {
    const f = Object.fromEntries(new FormData(filters));
    const items = await allPages('/alerts/operator/active', f);
    list.replaceChildren(alertTable(`${items.length} ${items.length === 1 ? 'alert' : 'alerts'}, most severe first`, items, true, load));
  };
  filters.addEventListener('change', load);
  target.replaceChildren(h('h1', {}, 'Alerts'),
    h('p', { class: 'muted' }, 'Acknowledge and resolve act at once; the routes take no note yet.'), filters, list);
  await load();
  onLive((kind) => { if (kind === 'alert') load(); });
}

// ---------------------------------------------------------------- tariffs
async function tariffs(target, _, { onLive }) {
  const user = api.currentUser();
  const grid = await api.get('/grid/regions');
  const current = table('Price in force per region', ['Region', 'Price', 'Tier', 'Since'], grid.items.map((r) =>
    h('tr', { dataset: { region: r.region } }, h('th', { scope: 'row' }, r.region),
      h('td', { class: 'num' }, r.price_per_kwh != null ? `₹${number(r.price_per_kwh, 2)}/kWh` : '–'),
      h('td', {}, r.price_reason ?? '–'), h('td', {}, time(r.price_effective_from)))));
  const parts = [h('h1', {}, 'Tariffs'), current];
  if (user.role === 'ADMIN') parts.push(await overrides(grid.items.map((r) => r.region), () => tariffs(target, _, { onLive })));
  target.replaceChildren(...parts);
  onLive((kind) => { if (kind === 'tariff') tariffs(target, _, { onLive }); });
}

async function overrides(regions, reload) {
  const list = await api.get(`/tariff/admin/overrides?${q({ status: 'all', limit: 50 })}`);
  const lift = async (o) => {
    if (!window.confirm(`Lift the override of ${o.region} (${o.reason ?? 'no reason'})?`)) return;
    await api.request('DELETE', `/tariff/admin/override/${enc(o.id ?? o.override_id)}`);
    await reload();
  };
  const rows = list.items.map((o) => h('tr', {}, h('td', {}, o.region), h('td', { class: 'num' }, o.price_per_kwh != null ? number(o.price_per_kwh, 2) : `${number(o.percentage, 1)} %`),
    h('td', {}, time(o.valid_from)), h('td', {}, o.valid_to ? time(o.valid_to) : 'open'), h('td', {}, o.reason ?? ''), h('td', {}, o.status ?? ''),
    h('td', {}, o.lifted_at || o.status === 'lifted' || o.status === 'expired' ? '' : h('button', { type: 'button', onclick: () => lift(o) }, 'Lift'))));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    const body = { region: f.region, reason: f.reason || undefined, valid_to: f.valid_to ? new Date(f.valid_to).toISOString() : undefined };
    if (f.kind === 'percentage') body.percentage = Number(f.value); else body.price_per_kwh = Number(f.value);
    if (!window.confirm(`Set ${f.kind === 'percentage' ? `${f.value} % of the base rate` : `₹${f.value}/kWh`} in ${f.region}?`)) return;
    try { await api.request('POST', '/tariff/admin/override', body); await reload(); } catch (err) {
      error.textContent = err.problem?.errors ? Object.entries(err.problem.errors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ') : err.message;
    }
  } },
  h('h3', {}, 'New override'),
  h('label', { for: 'o-region' }, 'Region'), h('select', { id: 'o-region', name: 'region' }, regions.map((r) => h('option', {}, r))),
  h('label', { for: 'o-kind' }, 'Kind'), h('select', { id: 'o-kind', name: 'kind' }, h('option', { value: 'price' }, 'price per kWh'), h('option', { value: 'percentage' }, 'percentage of base rate')),
  h('label', { for: 'o-value' }, 'Value'), h('input', { id: 'o-value', name: 'value', type: 'number', step: '0.01', min: '0', required: true }),
  h('label', { for: 'o-to' }, 'Valid to (optional)'), h('input', { id: 'o-to', name: 'valid_to', type: 'datetime-local' }),
  h('label', { for: 'o-reason' }, 'Reason'), h('input', { id: 'o-reason', name: 'reason', maxlength: '200' }),
  h('button', { type: 'submit' }, 'Create override'), error);
  return h('section', { 'aria-labelledby': 'ov-title' }, h('h2', { id: 'ov-title' }, 'Overrides (ADMIN)'),
    table('Overrides, newest first', ['Region', 'Price', 'From', 'To', 'Reason', 'Status', ''], rows), form);
}

// ---------------------------------------------------------------- admin
async function admin(target) {
  const [users, regions, keys] = await Promise.all([
    api.get('/admin/users?limit=100'), api.get('/admin/regions'), api.get('/admin/ingestion-keys').catch(() => ({ items: [] }))]);
  const regionNames = (regions.items ?? regions).map((r) => r.name);
  const message = h('p', { role: 'status' });
  const roleSelect = (u) => h('select', { 'aria-label': `Role of ${u.email}`, onchange: async (e) => {
    const role = e.target.value;
    if (!window.confirm(`Make ${u.email} ${role}? Their sessions end.`)) { e.target.value = u.role; return; }
    try {
      await api.request('PUT', `/admin/users/${enc(u.id)}/role`, { role, operator_regions: role === 'OPERATOR' ? regionNames : [] });
      message.textContent = `${u.email} is now ${role}.`;
    } catch (err) { message.textContent = err.message; }
  } }, ['USER', 'OPERATOR', 'ADMIN'].map((r) => h('option', { selected: r === u.role }, r)));
  const assign = h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    try {
      await api.request('PUT', `/admin/meters/${enc(f.meter.trim().toUpperCase())}/assignment`, { user_id: f.user });
      message.textContent = `${f.meter} assigned.`;
    } catch (err) { message.textContent = err.message; }
  } }, h('label', { for: 'a-meter' }, 'Meter'), h('input', { id: 'a-meter', name: 'meter', required: true, placeholder: 'MTR-00000001' }),
  h('label', { for: 'a-user' }, 'User'), h('select', { id: 'a-user', name: 'user' }, users.items.map((u) => h('option', { value: u.id }, u.email))),
  h('button', { type: 'submit' }, 'Assign'));
  target.replaceChildren(h('h1', {}, 'Administration'), message,
    table('Users and roles', ['Email', 'Role', 'Regions', 'Created'], users.items.map((u) =>
      h('tr', {}, h('td', {}, u.email), h('td', {}, roleSelect(u)), h('td', {}, (u.operator_regions ?? []).join(', ')), h('td', {}, time(u.created_at))))),
    h('h2', {}, 'Meter assignment'), assign,
    table('Regions', ['Name', 'Capacity', 'Nominal voltage', 'Time zone'], (regions.items ?? regions).map((r) =>
      h('tr', {}, h('td', {}, r.name), h('td', { class: 'num' }, `${number(r.capacity_kw, 0)} kW`), h('td', { class: 'num' }, `${r.nominal_voltage} V`), h('td', {}, r.time_zone)))),
    table('Ingestion keys', ['Name', 'Prefix', 'Regions', 'Provision', 'Created', 'Revoked'], (keys.items ?? keys).map((k) =>
      h('tr', {}, h('td', {}, k.name), h('td', {}, k.prefix), h('td', {}, (k.regions ?? ['all']).join(', ')), h('td', {}, k.can_provision ? 'yes' : 'no'),
        h('td', {}, time(k.created_at)), h('td', {}, k.revoked_at ? time(k.revoked_at) : '–')))));
}

// ---------------------------------------------------------------- my energy (USER)
async function energy(target, _, { onLive }) {
  const now = new Date();
  const midnight = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const monthStart = new Date(now.getFullYear(), now.getMonth(), 1);
  const [latest, price, invoices, prefs] = await Promise.all([
    api.get('/telemetry/user/latest').catch(() => null), api.get('/tariff/user/current').catch(() => null),
    api.get('/billing/user/invoices').catch(() => ({ items: [] })), api.get('/notifications/user/preferences').catch(() => null)]);
  // The history route pages by one day at most per 1m query; 15m windows cover the month in a few pages.
  const month = [];
  for (let from = monthStart.getTime(); from < now.getTime(); ) {
    const page = await api.get(`/telemetry/user/history?${q({ resolution: '15m', from: iso(from), to: iso(now.getTime()), limit: 1000 })}`).catch(() => null);
    if (!page) break;
    month.push(...page.items);
    if (!page.next_from) break;
    from = Date.parse(page.next_from);
  }
  const kwh = (items) => items.reduce((s, w) => s + w.energy_kwh_sum, 0);
  const today = month.filter((w) => Date.parse(w.window_start) >= midnight.getTime());
  const rate = price?.price_per_kwh;
  const cost = (e) => rate != null ? `₹${number(e * rate, 2)}` : '–';
  const chart = h('div', { class: 'plot' });
  target.replaceChildren(h('h1', {}, 'My energy'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Price now'), h('dd', { id: 'my-price' }, rate != null ? `₹${number(rate, 2)}/kWh` : '–'),
      h('dt', {}, 'Today'), h('dd', {}, `${number(kwh(today), 2)} kWh, ${cost(kwh(today))} at today's price`),
      h('dt', {}, 'This month'), h('dd', {}, `${number(kwh(month), 2)} kWh, ${cost(kwh(month))} at today's price (the invoice prices each window at the price then in force)`),
      h('dt', {}, 'Meter'), h('dd', {}, latest?.meter_id ?? '–'),
      h('dt', {}, 'Latest 1-minute window'), h('dd', {}, latest?.latest_1m ? [time(latest.latest_1m.window_start), ` ${number(latest.latest_1m.power_kw_avg, 2)} kW`] : '–')),
    h('figure', { class: 'chart' }, chart, h('figcaption', {}, 'My consumption this month, 15-minute windows (kWh)')),
    table('Invoices', ['Period', 'Energy', 'Amount', 'Status'], (invoices.items ?? []).map((i) =>
      h('tr', {}, h('td', {}, i.period), h('td', { class: 'num' }, `${number(i.energy_kwh, 2)} kWh`), h('td', { class: 'num' }, `${i.currency} ${number(i.amount, 2)}`), h('td', {}, i.status)))),
    h('h2', {}, 'Notification preferences'),
    prefs ? h('dl', { class: 'facts' }, h('dt', {}, 'Channels'), h('dd', {}, (prefs.channels ?? []).join(', ') || 'none'),
      h('dt', {}, 'Minimum severity'), h('dd', {}, prefs.min_severity ?? '–'),
      h('dt', {}, 'Quiet hours (UTC)'), h('dd', {}, prefs.quiet_hours_start ? `${prefs.quiet_hours_start}–${prefs.quiet_hours_end}` : 'none'))
      : h('p', { class: 'muted' }, 'Not available.'));
  timeChart(chart, { from: monthStart.getTime(), to: now.getTime(), title: 'Consumption', unit: 'kWh', series: [{ label: 'kWh per 15 min', points: month.map((w) => [epoch(w.window_start), w.energy_kwh_sum]) }] });
  onLive((kind, data) => { if (kind === 'tariff') document.getElementById('my-price').textContent = `₹${number(data.new_price ?? data.price_per_kwh, 2)}/kWh`; });
}

export const pages = {
  overview: { roles: OPS, render: overview },
  region: { roles: OPS, render: region },
  meter: { roles: OPS, render: meter },
  alerts: { roles: OPS, render: alerts },
  tariffs: { roles: OPS, render: tariffs },
  admin: { roles: ['ADMIN'], render: admin },
  energy: { roles: ['USER'], render: energy },
};
