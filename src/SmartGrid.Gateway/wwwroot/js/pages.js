import * as api from './api.js';
import { h, time, number, SEVERITIES } from './format.js';
import { timeChart } from './charts.js';

const OPS = ['OPERATOR', 'ADMIN'];
const HOUR = 3600 * 1000;
// The AlertManager's default (SmartGrid:Services:Alerts:Overload:ThresholdPercent); the routes do not expose it.
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
  const completeness = (r) => {
    // Window completeness (meters reported ÷ expected); a newer window still short of meters is named, not shown as the load.
    const load = r.load, partial = r.newest_partial;
    const ratio = (w) => (w.meters_expected ? ` ${w.meters_reported ?? w.meter_count}/${w.meters_expected}` : '');
    return h('span', {}, load ? `complete${ratio(load)}` : h('span', { class: 'muted' }, 'no complete window'),
      partial ? h('span', { class: 'muted partial' }, ' · newer partial: ', time(partial.window_start), ratio(partial)) : null);
  };
  const alertCell = (region) => {
    const c = counts.get(region);
    if (!c) return h('span', { class: 'muted' }, 'none');
    return h('span', { class: 'sevs' }, SEVERITIES.filter((s) => c[s]).map((s) => h('span', { class: `sev sev-${s}`, title: `${c[s]} ${s}` }, `${c[s]} ${s}`)));
  };
  const render = (r) => {
    const tr = h('tr', { dataset: { region: r.region, loadPercent: r.load ? String(r.load.load_percentage) : '',
      partialWindow: r.newest_partial?.window_start ?? '' } },
      h('th', { scope: 'row' }, h('a', { href: `#/region/${enc(r.region)}` }, r.region)),
      h('td', { class: 'num load' }, loadCell(r.load)),
      h('td', {}, r.load ? time(r.load.window_start) : '–'),
      h('td', {}, completeness(r)),
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
    table('Regions: load of the newest complete 1-minute window, capacity, price in force and open alerts',
      ['Region', 'Load', 'Window', 'Completeness', 'Capacity', 'Price', 'Tier', 'Open alerts'], body, { id: 'regions' }),
    chart);
  const loads = await Promise.all(grid.items.map(async (r) => ({ region: r.region, items: await regionLoad(r.region, 24, '15m') })));
  loadChart(chart.querySelector('.plot'), 'Load vs capacity, 24 h', loads, 24);

  const replace = (region) => {
    const entry = rows.get(region);
    if (!entry) return;
    const tr = render(entry.row);
    // A re-render for an alert or a price keeps when the load last changed.
    if (entry.tr.dataset.updatedAt) tr.dataset.updatedAt = entry.tr.dataset.updatedAt;
    entry.tr.replaceWith(tr);
    rows.get(region).tr = tr;
  };
  // A window on the stream says nothing of how complete it is (that needs the region's registered meters): the
  // event makes the page re-read /grid/regions, so live and initial load follow the one rule, the gateway's.
  // Events arriving during a read are folded into one more read, not one read each. The record can reach the page
  // before its row reaches PostgreSQL: until the answer holds the event's window, it is read again, a few times.
  const awaited = new Map();
  const holds = (r, e) => [r.load, r.newest_partial].some((w) => w && (Date.parse(w.window_start) > Date.parse(e.window_start)
    || (Date.parse(w.window_start) === Date.parse(e.window_start) && (w.meters_reported ?? w.meter_count) >= e.meter_count)));
  let reading = null, stale = false;
  const reread = () => {
    if (reading) { stale = true; return reading; }
    reading = (async () => {
      for (let attempt = 0; ; attempt++) {
        stale = false;
        const fresh = await api.get('/grid/regions');
        for (const r of fresh.items) {
          const entry = rows.get(r.region);
          if (!entry) continue;
          const moved = r.load?.window_start !== entry.row.load?.window_start || r.load?.load_percentage !== entry.row.load?.load_percentage;
          entry.row = { ...entry.row, load: r.load, newest_partial: r.newest_partial };
          replace(r.region);
          // When the screen showed a new current load (a window revised by late meters is news too): "window to screen".
          if (moved) rows.get(r.region).tr.dataset.updatedAt = String(Date.now());
          if (awaited.has(r.region) && holds(r, awaited.get(r.region))) awaited.delete(r.region);
        }
        if (stale) { attempt = -1; continue; }
        if (!awaited.size || attempt >= 8) { awaited.clear(); return; }
        await new Promise((done) => setTimeout(done, 150 * (attempt + 1)));
      }
    })().finally(() => { reading = null; });
    return reading;
  };
  onLive(async (kind, data) => {
    if (kind === 'region_window' && data.window_size === '1m') {
      if (!rows.has(data.region)) return;
      const before = awaited.get(data.region);
      if (!before || Date.parse(data.window_start) >= Date.parse(before.window_start)) awaited.set(data.region, data);
      await reread();
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
const METER_PAGE = 50;
const STATUS_TEXT = { reporting: 'reporting', silent: 'silent', passivated: 'passivated' };

async function region(target, [name]) {
  const [loads1m, loads15m, alerts] = await Promise.all([
    regionLoad(name, 6, '1m'), regionLoad(name, 24, '15m'), allPages('/alerts/operator/active', { region: name })]);
  const meters = h('div', { id: 'region-meters' });
  let search = '', offset = 0, asked = 0;
  const showMeters = async () => {
    // A search typed while an earlier list is still loading must not be overwritten by that list's late answer.
    const mine = ++asked;
    const page = await api.get(`/grid/regions/${enc(name)}/meters?${q({ search, limit: METER_PAGE, offset })}`);
    if (mine !== asked) return;
    const rows = page.items.map((m) => h('tr', { dataset: { meter: m.meter_id, status: m.status } },
      h('th', { scope: 'row' }, h('a', { href: `#/meter/${enc(m.meter_id)}` }, m.meter_id)),
      h('td', {}, h('span', { class: `meter-status meter-status-${m.status}` }, STATUS_TEXT[m.status] ?? m.status)),
      h('td', {}, m.last_window_start ? time(m.last_window_start) : 'never'),
      h('td', { class: 'num' }, m.power_kw_avg != null ? `${number(m.power_kw_avg, 2)} kW` : '–'),
      h('td', { class: 'num' }, m.voltage_avg != null ? `${number(m.voltage_avg, 1)} V` : '–'),
      h('td', {}, m.open_anomalies ? [`${m.open_anomalies} open, newest `, time(m.newest_anomaly_at)] : 'none')));
    const shown = `${page.total ? offset + 1 : 0}–${offset + page.items.length} of ${page.total}`;
    const turn = (by) => () => { offset = Math.max(0, offset + by); showMeters(); };
    meters.replaceChildren(
      table(`Meters${search ? ` matching ${search}` : ''}: ${shown}`, ['Meter', 'Status', 'Newest 1-minute window', 'Power', 'Voltage', 'Anomalies'], rows),
      h('p', { class: 'inline pager' },
        h('button', { type: 'button', disabled: offset === 0, onclick: turn(-METER_PAGE) }, 'Previous'),
        h('button', { type: 'button', disabled: offset + page.items.length >= page.total, onclick: turn(METER_PAGE) }, 'Next')));
  };
  const searchForm = h('form', { class: 'inline', role: 'search', 'aria-label': 'Meters', onsubmit: async (e) => {
    e.preventDefault();
    search = e.target.elements.meter.value.trim().toUpperCase();
    offset = 0;
    await showMeters();
  } }, h('label', { for: 'meter-search' }, 'Meter id contains'),
  h('input', { id: 'meter-search', name: 'meter', placeholder: 'MTR-0000 or 0042', pattern: '[A-Za-z0-9\\-]{1,12}', maxlength: '12' }),
  h('button', { type: 'submit' }, 'Search'));
  const latest = loads1m.at(-1);
  const c1 = h('div', { class: 'plot' }), c15 = h('div', { class: 'plot' });
  const quality = qualityPanel(name, `/reliability/regions/${enc(name)}`, 'region');
  target.replaceChildren(
    h('h1', {}, `Region ${name}`),
    h('p', {}, latest ? ['Newest 1-minute window: ', h('strong', {}, `${number(latest.load_percentage)} %`), ` of ${number(latest.capacity_kw, 0)} kW, ${latest.meter_count} meters reporting, `, time(latest.window_start)] : 'No windows in the last 6 h.'),
    h('p', {}, h('a', { href: `#/grid/${enc(name)}`, id: 'grid-link' }, `Grid of ${name}: feeders and transformers, their load, power quality and reliability`)),
    h('h2', {}, 'Meters'), searchForm, meters,
    h('figure', { class: 'chart' }, c1, h('figcaption', {}, 'Load, last 6 h, 1-minute windows')),
    h('figure', { class: 'chart' }, c15, h('figcaption', {}, 'Load, last 24 h, 15-minute windows')),
    h('h2', {}, 'Reliability and power quality'), quality.element,
    alertTable(`Open alerts in ${name}`, alerts, false));
  await Promise.all([showMeters(), quality.ready]);
  loadChart(c1, `${name}: 6 h`, [{ region: name, items: loads1m }], 6);
  loadChart(c15, `${name}: 24 h`, [{ region: name, items: loads15m }], 24);
}

// ---------------------------------------------------------------- grid: topology, node load, power quality, reliability
const DAY = 24 * HOUR;
const PERIODS = [{ days: 1, label: 'last 24 hours' }, { days: 7, label: 'last 7 days' }, { days: 30, label: 'last 30 days' }];
const DEFAULT_PERIOD_DAYS = 30;
// Load levels: over the node's rating, over the overload line (the alerts' rule), else normal. Said in words, not colour alone.
const LOAD_LEVELS = [{ from: 100, text: 'over rating', cls: 'load-over' }, { from: OVERLOAD_PERCENT, text: 'overload', cls: 'load-high' },
  { from: -Infinity, text: 'normal', cls: 'load-ok' }];
const percent = (share) => (share == null ? '–' : `${number(share * 100, 1)} %`);
const count = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const yesNo = (b) => (b == null ? '–' : b ? 'yes' : 'no');

function loadBadge(w) {
  if (!w) return h('span', { class: 'muted' }, 'no window in the last hour');
  const level = LOAD_LEVELS.find((l) => w.load_percent >= l.from);
  return h('span', { class: `load-badge ${level.cls}` }, `${number(w.load_percent)} % · ${level.text}`);
}

/** Runs the tasks a few at a time: a region's tree asks for one load per node, and the route's per-minute budget is shared. */
async function few(tasks, width = 4) {
  const queue = [...tasks];
  await Promise.all(Array.from({ length: width }, async () => { while (queue.length) await queue.shift()(); }));
}

const nodeLoad = (id, hours, resolution) => {
  const to = Date.now();
  return api.get(`/grid/nodes/${enc(id)}/load?${q({ from: iso(to - hours * HOUR), to: iso(to), resolution })}`);
};

const period = (days) => { const to = Date.now(); return { from: iso(to - days * DAY), to: iso(to) }; };

function periodSelect(id, onchange) {
  return h('p', { class: 'inline' }, h('label', { for: id }, 'Period'),
    h('select', { id, onchange: (e) => onchange(Number(e.target.value)) },
      PERIODS.map((p) => h('option', { value: String(p.days), selected: p.days === DEFAULT_PERIOD_DAYS }, p.label))));
}

/** A figure as a term and its value; data-value holds the API's number as answered (what the specs compare). */
const fact = (key, label, value, shown) => [h('dt', {}, label), h('dd', { dataset: { index: key, value: value == null ? '' : String(value) } }, shown)];

/** IEEE 1366 indices of a region or node (GET /reliability/…) and its interruptions. */
function reliabilitySection(r, title) {
  const minutes = (m) => (m == null ? '–' : `${number(m, 2)} min`);
  return h('section', { class: 'reliability', 'aria-label': title },
    h('h3', {}, title),
    h('dl', { class: 'facts indices' },
      fact('customers_served', 'Customers served', r.customers_served, String(r.customers_served)),
      fact('saifi', 'SAIFI (sustained interruptions per customer)', r.saifi, r.saifi == null ? '–' : number(r.saifi, 3)),
      fact('saidi_minutes', 'SAIDI (interrupted minutes per customer)', r.saidi_minutes, minutes(r.saidi_minutes)),
      fact('caidi_minutes', 'CAIDI (minutes per sustained interruption)', r.caidi_minutes, minutes(r.caidi_minutes)),
      fact('maifi', 'MAIFI (momentary interruptions per customer)', r.maifi, r.maifi == null ? '–' : number(r.maifi, 3)),
      fact('sustained_interruptions', 'Sustained / momentary', r.sustained_interruptions, `${r.sustained_interruptions} / ${r.momentary_interruptions}`),
      fact('platform_silences_excluded', 'Platform silences left out', r.platform_silences_excluded, String(r.platform_silences_excluded))),
    table(`Interruptions (${r.interruptions.length}${r.interruptions_truncated ? ', the first 1000' : ''})`,
      ['Meter', 'Start', 'End', 'Started by', 'Minutes', 'Kind'],
      r.interruptions.map((i) => h('tr', { dataset: { interruption: i.meter_id } },
        h('th', { scope: 'row' }, h('a', { href: `#/meter/${enc(i.meter_id)}` }, i.meter_id)),
        h('td', {}, time(i.start)), h('td', {}, i.end ? time(i.end) : 'ongoing'), h('td', {}, i.started_by),
        h('td', { class: 'num' }, number(i.duration_minutes, 1)),
        h('td', {}, i.sustained == null ? 'ongoing' : i.sustained ? 'sustained' : 'momentary')))));
}

/** EN 50160 / ANSI C84.1 summary of a node (GET /power-quality/nodes/{id}): shares, worst meters first, events. */
function powerQualitySection(pq, title) {
  const counts = Object.entries(pq.event_counts ?? {}).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  return h('section', { class: 'power-quality', 'aria-label': title },
    h('h3', {}, title),
    h('dl', { class: 'facts' },
      fact('compliant', 'EN 50160 compliant', pq.compliant, yesNo(pq.compliant)),
      fact('within_band_share', `10-minute means within ±10 % of ${pq.nominal_voltage} V`, pq.within_band_share, percent(pq.within_band_share)),
      fact('range_a_share', 'Within ±5 % (ANSI range A)', pq.range_a_share, percent(pq.range_a_share)),
      fact('compliant_meters', 'Compliant meters', pq.compliant_meters, `${pq.compliant_meters} of ${pq.meters} with data (${pq.windows} windows)`),
      fact('event_counts', 'Events', null, counts)),
    table(`Worst meters first${pq.meters > 20 ? ` (20 of ${pq.meters})` : ''}`, ['Meter', 'Compliant', 'Within ±10 %', 'Within ±5 %', 'Lowest mean', 'Highest mean', 'Events'],
      (pq.worst_meters ?? []).slice(0, 20).map((m) => h('tr', { dataset: { pqMeter: m.meter_id } },
        h('th', { scope: 'row' }, h('a', { href: `#/meter/${enc(m.meter_id)}` }, m.meter_id)), h('td', {}, yesNo(m.compliant)),
        h('td', { class: 'num' }, percent(m.within_band_share)), h('td', { class: 'num' }, percent(m.range_a_share)),
        h('td', { class: 'num' }, m.lowest_mean == null ? '–' : `${number(m.lowest_mean)} V`),
        h('td', { class: 'num' }, m.highest_mean == null ? '–' : `${number(m.highest_mean)} V`), h('td', { class: 'num' }, m.events)))),
    table(`Voltage events (${pq.events.length}${pq.events_truncated ? ', the first 1000' : ''}; newest 50 shown)`, ['Meter', 'Kind', 'Start', 'End', 'Extreme'],
      pq.events.slice(-50).reverse().map((e) => h('tr', { dataset: { event: e.kind } },
        h('th', { scope: 'row' }, e.meter_id), h('td', {}, e.kind), h('td', {}, time(e.start)), h('td', {}, e.end ? time(e.end) : 'ongoing'),
        h('td', { class: 'num' }, `${number(e.extreme_voltage)} V`)))));
}

/** Reliability and power quality of a node (a region too) over a chosen period, re-read when the period changes. */
function qualityPanel(id, reliabilityPath, idPrefix) {
  const body = h('div', { class: 'quality', 'aria-live': 'polite' });
  const show = async (days) => {
    const asked = ++show.asked;
    body.replaceChildren(h('p', { class: 'muted' }, 'Loading indices…'));
    const range = q(period(days));
    const [rel, pq] = await Promise.all([api.get(`${reliabilityPath}?${range}`), api.get(`/power-quality/nodes/${enc(id)}?${range}`)]);
    if (asked !== show.asked) return;
    const label = PERIODS.find((p) => p.days === days).label;
    body.replaceChildren(reliabilitySection(rel, `Reliability (IEEE 1366), ${label}`), powerQualitySection(pq, `Power quality (EN 50160), ${label}`));
    body.dataset.loaded = id;
  };
  show.asked = 0;
  return { element: h('div', {}, periodSelect(`${idPrefix}-period`, (d) => show(d).catch((e) => body.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message)))), body),
    ready: show(DEFAULT_PERIOD_DAYS) };
}

async function grid(target, [name, selected]) {
  const tree = await api.get(`/grid/topology?${q({ region: name })}`);
  const branch = tree.regions[0];
  const nodes = [{ id: branch.region, kind: 'region', rated_kw: branch.capacity_kw, meter_count: branch.meter_count }];
  const loadCells = new Map();
  const detail = h('section', { id: 'node-detail', 'aria-labelledby': 'node-title' });
  const selectButtons = new Map();
  const select = async (node, byHand = false) => {
    for (const [id, b] of selectButtons) { if (id === node.id) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current'); }
    history.replaceState(null, '', `#/grid/${enc(name)}/${enc(node.id)}`);
    const shown = showNode(detail, node);
    // Chosen by the operator: their focus follows to the node's heading (on a phone the details are below the tree).
    if (byHand) detail.querySelector('h2')?.focus();
    await shown;
  };
  const item = (node, children) => {
    nodes.push(node);
    const load = h('span', { class: 'node-load' }, h('span', { class: 'muted' }, '…'));
    loadCells.set(node.id, load);
    const pick = h('button', { type: 'button', class: 'node-name', onclick: () => select(node, true).catch((e) => {
      if (detail.dataset.node === node.id) detail.append(h('p', { class: 'error', role: 'alert' }, `Could not load ${node.id}: ${e.message}`));
    }) }, node.id);
    selectButtons.set(node.id, pick);
    const row = h('div', { class: 'node-row' });
    const li = h('li', { dataset: { node: node.id, kind: node.kind } }, row);
    if (children?.length) {
      const list = h('ul', { id: `children-${node.id}` }, children);
      const toggle = h('button', { type: 'button', class: 'disclose', 'aria-expanded': 'true', 'aria-controls': list.id,
        'aria-label': `${node.kind === 'feeder' ? 'Transformers' : 'Feeders'} of ${node.id}`, onclick: () => {
          const open = toggle.getAttribute('aria-expanded') !== 'true';
          toggle.setAttribute('aria-expanded', String(open));
          list.hidden = !open;
        } });
      row.append(toggle);
      li.append(list);
    } else {
      row.append(h('span', { class: 'disclose-space', 'aria-hidden': 'true' }));
    }
    row.append(pick, ' ', load, h('span', { class: 'muted node-facts' }, ` ${node.kind}, rated ${number(node.rated_kw, 0)} kW, ${count(node.meter_count, 'meter')}`));
    return li;
  };
  const root = nodes[0];
  nodes.length = 0;
  const rootItem = item(root, branch.feeders.map((f) => item({ id: f.id, kind: 'feeder', rated_kw: f.rated_kw, meter_count: f.meter_count },
    f.transformers.map((t) => item({ id: t.id, kind: 'transformer', rated_kw: t.rated_kw, meter_count: t.meter_count })))));
  target.replaceChildren(
    h('h1', {}, `Grid of ${branch.region}`),
    h('p', {}, h('a', { href: `#/region/${enc(branch.region)}` }, `Back to region ${branch.region}`),
      ` · ${count(branch.feeders.length, 'feeder')}, ${count(branch.feeders.reduce((n, f) => n + f.transformers.length, 0), 'transformer')}, ${count(branch.meter_count, 'meter')} placed.`,
      ` Load is the newest 1-minute window (over ${OVERLOAD_PERCENT} % is an overload, over 100 % over the rating); choose a node for its charts, power quality and reliability.`),
    h('div', { class: 'grid-layout' },
      h('nav', { 'aria-label': `Grid of ${branch.region}`, class: 'tree-pane' }, h('ul', { class: 'tree', id: 'grid-tree' }, rootItem)),
      detail));
  if (!branch.feeders.length) detail.replaceChildren(h('p', { id: 'node-title', class: 'muted' }, 'No feeders in this region yet: an ADMIN imports the topology.'));
  const first = nodes.find((n) => n.id.toLowerCase() === (selected ?? '').toLowerCase()) ?? root;
  // The newest load of every node, a few requests at a time (there is no route answering all of a region's nodes at once).
  const loads = few(nodes.map((n) => async () => {
    const cell = loadCells.get(n.id);
    try {
      const page = await nodeLoad(n.id, 1, '1m');
      const newest = page.items.at(-1);
      cell.replaceChildren(loadBadge(newest));
      cell.closest('li').dataset.loadPercent = newest ? String(newest.load_percent) : '';
    } catch (e) {
      cell.replaceChildren(h('span', { class: 'muted' }, `load not available (${e.status ?? e.message})`));
    }
  }));
  await Promise.all([select(first), loads]);
}

/** One node's load charts and its reliability and power quality. */
async function showNode(detail, node) {
  const c1 = h('div', { class: 'plot' }), c15 = h('div', { class: 'plot' });
  const quality = qualityPanel(node.id, `/reliability/nodes/${enc(node.id)}`, 'node');
  detail.dataset.node = node.id;
  detail.replaceChildren(
    h('h2', { id: 'node-title', tabindex: '-1' }, `${node.kind[0].toUpperCase()}${node.kind.slice(1)} ${node.id}`),
    h('p', {}, `Rated ${number(node.rated_kw, 0)} kW, ${count(node.meter_count, 'meter')} placed now.`),
    h('figure', { class: 'chart' }, c1, h('figcaption', {}, 'Load % of the rating, last 6 h, 1-minute windows')),
    h('figure', { class: 'chart' }, c15, h('figcaption', {}, 'Load % of the rating, last 24 h, 15-minute windows')),
    quality.element);
  const [w1, w15] = await Promise.all([nodeLoad(node.id, 6, '1m'), nodeLoad(node.id, 24, '15m'), quality.ready]);
  if (detail.dataset.node !== node.id) return;
  const series = (page) => [{ region: node.id, items: page.items.map((w) => ({ window_start: w.window_start, load_percentage: w.load_percent })) }];
  loadChart(c1, `${node.id}: 6 h`, series(w1), 6);
  loadChart(c15, `${node.id}: 24 h`, series(w15), 24);
}

// ---------------------------------------------------------------- meter
async function meter(target, [id]) {
  const to = Date.now();
  const [status, w1, w15, anomalies] = await Promise.all([
    api.get(`/meters/${enc(id)}/status`).catch((e) => ({ error: e.message })),
    // The anomaly marks come from the alerts the anomalies raised (GET /meters/{id}/anomalies).
    api.get(`/meters/${enc(id)}/aggregates?${q({ resolution: '1m', from: iso(to - 6 * HOUR), to: iso(to), limit: 1000 })}`),
    api.get(`/meters/${enc(id)}/aggregates?${q({ resolution: '15m', from: iso(to - 24 * HOUR), to: iso(to), limit: 1000 })}`),
    api.get(`/meters/${enc(id)}/anomalies?${q({ from: iso(to - 24 * HOUR), to: iso(to), limit: 1000 })}`).catch(() => ({ items: [] })),
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
  const anomalyTable = table(`Anomalies in the last 24 h (${anomalies.items.length})`, ['Severity', 'Status', 'What', 'First seen', 'Last seen', 'Times'],
    anomalies.items.map((a) => h('tr', { dataset: { anomaly: a.alert_id } }, h('td', {}, severityBadge(a.severity)), h('td', {}, a.status), h('td', {}, a.message),
      h('td', {}, time(a.first_seen_at)), h('td', {}, time(a.last_seen_at)), h('td', { class: 'num' }, a.occurrences))), { id: 'anomalies' });
  target.replaceChildren(
    h('h1', {}, `Meter ${id}`), statusList,
    ...charts.map((c, i) => h('figure', { class: 'chart' }, c, h('figcaption', {}, ['Power, 6 h of 1-minute windows, the meter\'s learned baseline per hour (dashed) and its anomalies (red dots)', 'Voltage, 6 h of 1-minute windows (band shaded: 230 V ± 10 %)', 'Power, 24 h of 15-minute windows, baseline and anomalies', 'Voltage, 24 h of 15-minute windows'][i]))),
    anomalyTable,
    table('Energy per day (kWh)', ['Day', 'Energy'], [...perDay].map(([d, e]) => h('tr', {}, h('td', {}, d), h('td', { class: 'num' }, number(e, 3))))));
  const band = { label: 'voltage band', low: 207, high: 253 };
  const pts = (items, f) => items.map((w) => [epoch(w.window_start), f(w)]);
  // The meter actor's baseline: a mean per UTC hour of day (baseline_kw_by_hour), drawn hour by hour.
  const baseline = (hours) => {
    const byHour = status.baseline_kw_by_hour ?? [];
    const points = [];
    const from = to - hours * HOUR;
    for (let at = Math.floor(from / HOUR) * HOUR; at <= to; at += HOUR) {
      const kw = byHour[new Date(at).getUTCHours()];
      // Each hour's mean across its hour (clipped to the chart), so a lone learned hour is a segment, not a dot.
      if (kw != null) points.push([Math.max(at, from) / 1000, kw], [(Math.min(at + HOUR, to) - 1000) / 1000, kw]);
    }
    return { label: 'baseline kW', points, stepped: true, dash: [4, 4], colour: '#7a3db3' };
  };
  // An anomaly is marked where it was first and last seen, on the window it fell in (or at the baseline's height).
  const marks = (items, size) => {
    const step = size === '1m' ? 60 : 900;
    const byStart = new Map(items.map((w) => [epoch(w.window_start), w.power_kw_avg]));
    const at = (t) => { const x = Math.floor(epoch(t) / step) * step; return [x, byStart.get(x) ?? 0]; };
    return { label: 'anomaly', marks: true, colour: '#c00000', points: anomalies.items.flatMap((a) => [at(a.first_seen_at), at(a.last_seen_at)]) };
  };
  timeChart(charts[0], { from: to - 6 * HOUR, to, title: 'Power (1m)', unit: 'kW', series: [{ label: 'avg kW', points: pts(w1.items, (w) => w.power_kw_avg) }, { label: 'max kW', points: pts(w1.items, (w) => w.power_kw_max) }, baseline(6), marks(w1.items, '1m')] });
  timeChart(charts[1], { from: to - 6 * HOUR, to, title: 'Voltage (1m)', unit: 'V', series: [{ label: 'avg V', points: pts(w1.items, (w) => w.voltage_avg) }], band });
  timeChart(charts[2], { from: to - 24 * HOUR, to, title: 'Power (15m)', unit: 'kW', series: [{ label: 'avg kW', points: pts(w15.items, (w) => w.power_kw_avg) }, baseline(24), marks(w15.items, '15m')] });
  timeChart(charts[3], { from: to - 24 * HOUR, to, title: 'Voltage (15m)', unit: 'V', series: [{ label: 'avg V', points: pts(w15.items, (w) => w.voltage_avg) }], band });
}

// ---------------------------------------------------------------- alerts
function alertTable(caption, alerts, actions, onChange) {
  const rows = alerts.map((a) => {
    const buttons = actions ? h('td', { class: 'actions' },
      a.status === 'active' ? h('button', { type: 'button', dataset: { action: 'acknowledge' }, onclick: (e) => noteForm(a, 'acknowledge', e.currentTarget, onChange) }, 'Acknowledge') : null,
      a.status !== 'resolved' ? h('button', { type: 'button', dataset: { action: 'resolve' }, onclick: (e) => noteForm(a, 'resolve', e.currentTarget, onChange) }, 'Resolve') : null,
      h('button', { type: 'button', 'aria-expanded': 'false', onclick: (e) => timeline(a, e.currentTarget) }, 'Timeline')) : null;
    return h('tr', { dataset: { alertId: a.alert_id, status: a.status } },
      h('td', {}, severityBadge(a.severity)), h('td', {}, a.type), h('td', {}, a.region), h('td', { class: 'nowrap' }, a.meter_id ?? '–'),
      h('td', {}, a.message), h('td', { class: 'status' }, a.status), h('td', {}, time(a.created_at)), buttons);
  });
  return table(caption, ['Severity', 'Type', 'Region', 'Meter', 'Message', 'Status', 'Raised', ...(actions ? ['Actions'] : [])], rows, { class: 'alerts-table' });
}

const NOTE_MAX = 1000;

/** Acknowledge or resolve asks for an optional note first (the route's JSON body), then acts. */
function noteForm(alert, action, button, onChange) {
  const row = button.closest('tr');
  row.parentElement.querySelector('tr.note-row')?.remove();
  const id = `note-${alert.alert_id}`;
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack note', onsubmit: async (e) => {
    e.preventDefault();
    const note = e.target.elements.note.value.trim();
    try {
      await api.request('PUT', `/alerts/operator/${enc(alert.alert_id)}/${action}`, note ? { note } : undefined);
      document.getElementById('live').textContent = `Alert ${action === 'resolve' ? 'resolved' : 'acknowledged'}.`;
      note.remove();
      await onChange?.();
    } catch (err) {
      error.textContent = err.problem?.errors ? Object.entries(err.problem.errors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ') : `Could not ${action}: ${err.message}`;
    }
  } },
  h('label', { for: id }, `Note for ${action === 'resolve' ? 'resolving' : 'acknowledging'} (optional, at most ${NOTE_MAX} characters)`),
  h('textarea', { id, name: 'note', rows: '2', maxlength: String(NOTE_MAX) }),
  h('span', { class: 'inline' }, h('button', { type: 'submit' }, action === 'resolve' ? 'Confirm resolve' : 'Confirm acknowledge'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { note.remove(); button.focus(); } }, 'Cancel')), error);
  const note = h('tr', { class: 'note-row' }, h('td', { colspan: '8' }, form));
  row.after(note);
  form.elements.note.focus();
}

async function timeline(alert, button) {
  const row = button.closest('tr');
  if (row.nextElementSibling?.classList.contains('timeline')) {
    row.nextElementSibling.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const detail = await api.get(`/alerts/operator/${enc(alert.alert_id)}`);
  // The actor's name where the route gives it, else the actor as recorded (a user id, or "system").
  const list = h('ol', { class: 'timeline-events' }, detail.events.map((e) => h('li', { dataset: { action: e.action } }, time(e.at), ` ${e.action}`,
    e.actor_name || e.actor ? ` by ${e.actor_name || e.actor}` : '', e.note ? h('blockquote', { class: 'note' }, e.note) : null)));
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
  let asked = 0;
  const load = async () => {
    const f = Object.fromEntries(new FormData(filters));
    // Alerts arriving close together start reads that may answer out of order: only the newest read's answer is drawn.
    const mine = ++asked;
    const items = await allPages('/alerts/operator/active', f);
    if (mine !== asked) return;
    // A live alert re-renders the list: an operator reading a timeline or writing a note must not lose it to
    // somebody else's alert, so open timelines are opened again (fresh) and an unsent note moves to the new row.
    const openTimelines = [...list.querySelectorAll('tr.timeline')].map((t) => t.previousElementSibling?.dataset.alertId);
    const draft = list.querySelector('tr.note-row');
    const draftFocused = draft?.contains(document.activeElement);
    const draftFor = draft?.previousElementSibling?.dataset.alertId;
    list.replaceChildren(alertTable(`${items.length} ${items.length === 1 ? 'alert' : 'alerts'}, most severe first`, items, true, load));
    const rowOf = (id) => [...list.querySelectorAll('tr[data-alert-id]')].find((r) => r.dataset.alertId === id);
    if (draft && rowOf(draftFor)?.dataset.status !== 'resolved') {
      rowOf(draftFor)?.after(draft);
      if (draftFocused) draft.querySelector('textarea')?.focus();
    }
    for (const id of openTimelines) {
      const alert = items.find((a) => a.alert_id === id);
      const button = rowOf(id)?.querySelector('button[aria-expanded]');
      if (alert && button) await timeline(alert, button);
    }
  };
  filters.addEventListener('change', load);
  target.replaceChildren(h('h1', {}, 'Alerts'),
    h('p', { class: 'muted' }, 'Acknowledge and resolve ask for an optional note; the timeline shows who did what, when, and their note.'), filters, list);
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
  const chart = h('div', { class: 'plot' });
  const history = await priceHistory(grid.items.map((r) => r.region), 7);
  const parts = [h('h1', {}, 'Tariffs'), current,
    h('figure', { class: 'chart' }, chart, h('figcaption', {}, 'Price per kWh of each region over the last 7 days (each price holds until the next change)')),
    table('Price changes in the last 7 days, newest first', ['Region', 'From', 'Price', 'Was', 'Reason'], history.changes.slice(0, 30).map((c) =>
      h('tr', {}, h('td', {}, c.region), h('td', {}, time(c.effective_from)), h('td', { class: 'num' }, `₹${number(c.price_per_kwh, 2)}`),
        h('td', { class: 'num' }, c.old_price != null ? `₹${number(c.old_price, 2)}` : '–'), h('td', {}, c.reason))), { id: 'price-history' })];
  if (user.role === 'ADMIN') parts.push(await overrides(grid.items.map((r) => r.region), () => tariffs(target, _, { onLive })));
  target.replaceChildren(...parts);
  const now = Date.now();
  timeChart(chart, { from: now - history.days * 24 * HOUR, to: now, title: 'Price history', unit: '₹/kWh',
    series: history.series.map(({ region, points }) => ({ label: region, points, stepped: true })) });
  onLive((kind) => { if (kind === 'tariff') tariffs(target, _, { onLive }); });
}

/** Each region's price changes over the last days (GET /tariff/operator/history), as stepped series that run up to now. */
async function priceHistory(regions, days) {
  const to = Date.now(), from = to - days * 24 * HOUR;
  const perRegion = await Promise.all(regions.map(async (region) => {
    const [items, before] = await Promise.all([
      allPages('/tariff/operator/history', { region, from: iso(from), to: iso(to) }),
      // The price already in force when the span starts: the newest change before it (five years back at most, as the route allows).
      api.get(`/tariff/operator/history?${q({ region, from: iso(from - 5 * 365 * 24 * HOUR), to: iso(from), limit: 1 })}`)]);
    return { region, items, before: before.items[0] };
  }));
  const series = perRegion.map(({ region, items, before }) => {
    const points = items.map((c) => [epoch(c.effective_from), Number(c.price_per_kwh)]).reverse();
    if (before) points.unshift([from / 1000, Number(before.price_per_kwh)]);
    if (points.length) points.push([to / 1000, points.at(-1)[1]]);
    return { region, points };
  });
  const changes = perRegion.flatMap(({ items }) => items).sort((a, b) => Date.parse(b.effective_from) - Date.parse(a.effective_from));
  return { days, series, changes };
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
    h('h2', { id: 'prefs-title' }, 'Notification preferences'),
    prefs ? preferencesForm(prefs) : h('p', { class: 'muted' }, 'Not available.'));
  timeChart(chart, { from: monthStart.getTime(), to: now.getTime(), title: 'Consumption', unit: 'kWh', series: [{ label: 'kWh per 15 min', points: month.map((w) => [epoch(w.window_start), w.energy_kwh_sum]) }] });
  onLive((kind, data) => { if (kind === 'tariff') document.getElementById('my-price').textContent = `₹${number(data.new_price ?? data.price_per_kwh, 2)}/kWh`; });
}

const CHANNELS = ['email', 'sms', 'push', 'webhook'];

/** The caller's notification preferences (GET|PUT /notifications/user/preferences), with a code form for a new address. */
function preferencesForm(prefs) {
  const status = h('p', { role: 'status', id: 'prefs-status' });
  const error = h('p', { class: 'error', role: 'alert' });
  const confirm = h('div', {});
  const field = (id, label, input) => [h('label', { for: id }, label), input];
  const pending = (p) => {
    confirm.replaceChildren(...['email', 'phone'].filter((a) => p[`pending_${a}`]).map((a) => h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      try {
        pending(await api.request('POST', '/notifications/user/preferences/confirm', { address: a, code: e.target.elements.code.value.trim() }));
        status.textContent = `The ${a} address is confirmed.`;
      } catch (err) { error.textContent = err.message; }
    } }, h('label', { for: `code-${a}` }, `Code sent to ${p[`pending_${a}`]}`), h('input', { id: `code-${a}`, name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true }),
    h('button', { type: 'submit' }, 'Confirm'))));
  };
  const form = h('form', { class: 'stack', id: 'prefs', 'aria-labelledby': 'prefs-title', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = status.textContent = '';
    const f = e.target.elements;
    const body = { channels: CHANNELS.filter((c) => f[`ch-${c}`].checked), min_severity: f.min_severity.value };
    for (const [key, value] of [['email', f.email.value], ['phone', f.phone.value], ['webhook_url', f.webhook_url.value],
      ['quiet_hours_start', f.quiet_start.value], ['quiet_hours_end', f.quiet_end.value], ['push_token', prefs.push_token]]) {
      if (value) body[key] = value.trim();
    }
    try {
      const saved = await api.request('PUT', '/notifications/user/preferences', body);
      prefs = saved;
      status.textContent = saved.webhook_secret ? `Saved. Webhook signing secret (shown once): ${saved.webhook_secret}` : 'Saved.';
      pending(saved);
    } catch (err) {
      error.textContent = err.problem?.errors ? Object.entries(err.problem.errors).map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ') : err.message;
    }
  } },
  h('fieldset', {}, h('legend', {}, 'Channels'), CHANNELS.map((c) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: `ch-${c}`, checked: (prefs.channels ?? []).includes(c) }), ` ${c}`))),
  field('p-severity', 'Minimum severity', h('select', { id: 'p-severity', name: 'min_severity' },
    [...SEVERITIES].reverse().map((sv) => h('option', { selected: sv === prefs.min_severity }, sv)))),
  field('p-email', 'Email', h('input', { id: 'p-email', name: 'email', type: 'email', value: prefs.email ?? '', autocomplete: 'email' })),
  field('p-phone', 'Phone (E.164, for sms)', h('input', { id: 'p-phone', name: 'phone', type: 'tel', value: prefs.phone ?? '', placeholder: '+919812345678' })),
  field('p-webhook', 'Webhook URL', h('input', { id: 'p-webhook', name: 'webhook_url', type: 'url', value: prefs.webhook_url ?? '' })),
  field('p-quiet-start', 'Quiet hours from (UTC)', h('input', { id: 'p-quiet-start', name: 'quiet_start', type: 'time', value: prefs.quiet_hours_start ?? '' })),
  field('p-quiet-end', 'Quiet hours until (UTC)', h('input', { id: 'p-quiet-end', name: 'quiet_end', type: 'time', value: prefs.quiet_hours_end ?? '' })),
  h('button', { type: 'submit' }, 'Save preferences'), status, error);
  pending(prefs);
  return h('div', {}, form, confirm);
}

export const pages = {
  overview: { roles: OPS, render: overview },
  region: { roles: OPS, render: region },
  grid: { roles: OPS, render: grid },
  meter: { roles: OPS, render: meter },
  alerts: { roles: OPS, render: alerts },
  tariffs: { roles: OPS, render: tariffs },
  admin: { roles: ['ADMIN'], render: admin },
  energy: { roles: ['USER'], render: energy },
};
