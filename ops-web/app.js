import { drawHourChart } from './chart.js';
import { el } from './dom.js';
import { FleetState } from './fleet/fleet-state.js';
import { formatAge } from './fleet/terminal-view.js';
import { fleetFilters } from './fleet/topic.js';
import mqttBundle from './vendor/mqtt.esm.js';

// The bundle's default export is the module namespace in some builds, the API in others.
const mqtt = typeof mqttBundle.connect === 'function' ? mqttBundle : mqttBundle.default;

/** Shortest time between two renders, ms; ages are refreshed every second anyway. */
const RENDER_MIN_MS = 300;
/** Most events shown in the list. */
const MAX_ROWS = 300;

const config = await (await fetch('config.json')).json();
const fleet = new FleetState({ prefix: config.prefix, maxGates: config.maxGates });
const $ = (id) => document.getElementById(id);
let renderTimer;
let lastRender = 0;

const client = mqtt.connect(config.brokerWs, {
  clientId: `ridergate-ops-web-${Math.random().toString(16).slice(2, 10)}`,
  clean: true,
  reconnectPeriod: 2000,
  protocolVersion: 4,
});
client.on('connect', () => {
  setLink('connected', `connected to ${config.brokerWs}`);
  client.subscribe(fleetFilters(config.prefix), { qos: 1 });
});
client.on('offline', () => setLink('offline', 'broker not reachable, retrying…'));
client.on('message', (topic, payload) => {
  const update = fleet.apply(topic, payload, Date.now());
  if (update.kind === 'rejected') console.warn('ignored message', topic, update.error);
  scheduleRender();
});
for (const id of ['filter-site', 'filter-gate', 'filter-type'])
  $(id).addEventListener('change', render);
setInterval(render, 1000);
render();

function setLink(state, text) {
  $('link').className = `link-${state}`;
  $('link').textContent = text;
}

function scheduleRender() {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(
    () => {
      renderTimer = undefined;
      render();
    },
    Math.max(0, lastRender + RENDER_MIN_MS - Date.now()),
  );
}

function render() {
  lastRender = Date.now();
  const now = Date.now();
  const gates = fleet.list();
  const by = (s) => gates.filter((g) => g.state === s).length;
  $('totals').textContent =
    `${gates.length} gates · ${by('online')} online · ${by('lost')} lost · ${by('offline')} offline`;
  $('tiles').replaceChildren(...gates.map((g) => tile(g, now)));
  drawHourChart(
    $('chart'),
    gates.map((g) => ({ key: g.key, totals: g.hour.totals(now) })),
  );
  renderFilters(gates);
  renderEvents(now);
}

function tile(g, now) {
  const session = g.session === undefined ? '' : ` · session ${g.session}`;
  const last = g.lastEvent;
  const event =
    last === undefined
      ? 'no event yet'
      : `${last.type}${last.reason ? ` ${last.reason}` : ''} · ${formatAge(now - last.ts)} ago`;
  const alarms = g.openAlarms(now);
  return el(
    'div',
    { class: `tile state-${g.state}`, 'data-gate': g.key, 'data-state': g.state },
    el('div', { class: 'name' }, g.key),
    el('div', { class: 'state' }, `${g.state}${session}`),
    el('div', { class: 'last' }, event),
    el(
      'div',
      { class: 'outbox' },
      `outbox ${g.outboxDepth ?? '?'}${g.version ? ` · v${g.version}` : ''}`,
    ),
    el('ul', { class: 'alarms' }, ...alarms.map((a) => el('li', {}, a))),
  );
}

function renderFilters(gates) {
  fillSelect($('filter-site'), [...new Set(gates.map((g) => g.site))]);
  const site = $('filter-site').value;
  fillSelect(
    $('filter-gate'),
    gates.filter((g) => site === '' || g.site === site).map((g) => g.gate),
  );
}

function fillSelect(select, values) {
  const wanted = ['', ...[...new Set(values)].sort()];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join('\n') === have.join('\n')) return;
  const keep = select.value;
  select.replaceChildren(
    ...wanted.map((v) => {
      const option = el('option', {}, v === '' ? 'all' : v);
      option.value = v;
      return option;
    }),
  );
  select.value = wanted.includes(keep) ? keep : '';
}

function renderEvents(now) {
  const site = $('filter-site').value;
  const gate = $('filter-gate').value;
  const type = $('filter-type').value;
  const rows = [];
  for (const e of fleet.events()) {
    if ((site && e.site !== site) || (gate && e.gate !== gate) || (type && e.type !== type))
      continue;
    rows.push(eventRow(e, now));
    if (rows.length >= MAX_ROWS) break;
  }
  $('events').tBodies[0].replaceChildren(...rows);
}

function eventRow(e, now) {
  const time = new Date(e.ts).toISOString().replace('T', ' ').slice(0, 19);
  return el(
    'tr',
    { class: `type-${e.type}`, 'data-gate': `${e.site}/${e.gate}`, 'data-type': e.type },
    el('td', { title: `${formatAge(now - e.ts)} ago` }, time),
    el('td', {}, `${e.site}/${e.gate}`),
    el('td', {}, e.type + (e.replay ? ' (replay)' : '')),
    el('td', {}, e.reason ?? ''),
    el('td', {}, e.detail ?? ''),
  );
}
