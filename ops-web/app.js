import { BrokerSession } from './broker-session.js';
import { drawHourChart } from './chart.js';
import { el } from './dom.js';
import { FleetState } from './fleet/fleet-state.js';
import { formatAge } from './fleet/terminal-view.js';
import { fleetFilters } from './fleet/topic.js';
import { justLoggedOut, LoginPanel, rememberedCredentials } from './login.js';
import mqttBundle from './vendor/mqtt.esm.js';

// The bundle's default export is the module namespace in some builds, the API in others.
const mqtt = typeof mqttBundle.connect === 'function' ? mqttBundle : mqttBundle.default;

/** Shortest time between two renders, ms; stretched to 4× the last render's cost. */
const RENDER_MIN_MS = 300;
/** Shortest time between two chart redraws, ms. */
const CHART_MIN_MS = 2000;
/** Most events shown in the list. */
const MAX_ROWS = 200;
/** Colour of the header's link text by link state. */
const LINK_CLASS = {
  connecting: 'connecting',
  connected: 'connected',
  unreachable: 'offline',
  lost: 'offline',
  'needs-login': 'refused',
  'login-refused': 'refused',
  refused: 'refused',
  'read-refused': 'refused',
};

const config = await (await fetch('config.json')).json();
const fleet = new FleetState({ prefix: config.prefix, maxGates: config.maxGates });
const $ = (id) => document.getElementById(id);
let renderTimer;
let lastRender = 0;
let renderCostMs = 0;
let lastChart = 0;
let chartSignature = '';
let eventsSignature = '';
/** Tile element and what it last showed, per gate key: only changed tiles are touched. */
const tiles = new Map();

const session = new BrokerSession(mqtt, config.brokerWs, {
  filters: fleetFilters(config.prefix),
  onState: (state) => {
    setLink(state);
    login.update(state, session.username);
  },
  onMessage: (topic, payload) => {
    const update = fleet.apply(topic, payload, Date.now());
    if (update.kind === 'rejected') console.warn('ignored message', topic, update.error);
    scheduleRender();
  },
});
const login = new LoginPanel($, {
  brokerWs: config.brokerWs,
  username: config.username,
  onLogin: (credentials) => session.start(credentials),
  onLogout: () => {
    // A fresh page: no password and no fleet data of this login stay in memory.
    session.stop();
    location.reload();
  },
});
if (justLoggedOut()) {
  $('link').className = 'link-offline';
  $('link').textContent = 'logged out';
  login.show('You are logged out. Log in again to watch the fleet.');
} else session.start(rememberedCredentials());
for (const id of ['filter-site', 'filter-gate', 'filter-type'])
  $(id).addEventListener('change', render);
setInterval(scheduleRender, 1000);
render();

/** @param {import('./broker-session.js').LinkState} state */
function setLink(state) {
  $('link').className = `link-${LINK_CLASS[state.kind]}`;
  $('link').textContent = state.text;
}

function scheduleRender() {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(
    () => {
      renderTimer = undefined;
      render();
    },
    Math.max(0, lastRender + Math.max(RENDER_MIN_MS, 4 * renderCostMs) - Date.now()),
  );
}

function render() {
  const started = performance.now();
  lastRender = Date.now();
  const now = Date.now();
  const gates = fleet.list();
  const by = (s) => gates.filter((g) => g.state === s).length;
  $('totals').textContent =
    `${gates.length} gates · ${by('online')} online · ${by('lost')} lost · ${by('offline')} offline`;
  renderTiles(gates, now);
  renderChart(gates, now);
  renderFilters(gates);
  renderEvents(now);
  renderCostMs = performance.now() - started;
  document.body.dataset.renderMs = renderCostMs.toFixed(1);
}

function renderTiles(gates, now) {
  for (const g of gates) {
    const view = tileView(g, now);
    const signature = JSON.stringify(view);
    let entry = tiles.get(g.key);
    if (entry === undefined) {
      entry = { node: newTile(g.key), signature: '' };
      tiles.set(g.key, entry);
    }
    if (entry.signature !== signature) fillTile(entry.node, view);
    entry.signature = signature;
  }
  const host = $('tiles');
  if (host.childElementCount !== gates.length)
    host.replaceChildren(...gates.map((g) => tiles.get(g.key).node));
}

function renderChart(gates, now) {
  if (Date.now() - lastChart < CHART_MIN_MS && chartSignature !== '') return;
  const rows = gates.map((g) => ({ key: g.key, totals: g.hour.totals(now) }));
  const signature = JSON.stringify(rows);
  if (signature === chartSignature) return;
  chartSignature = signature;
  lastChart = Date.now();
  drawHourChart($('chart'), rows);
}

/** What a tile shows, as plain data: compared to skip unchanged tiles. */
function tileView(g, now) {
  const last = g.lastEvent;
  return {
    state: g.state,
    stateText: `${g.state}${g.session === undefined ? '' : ` · session ${g.session}`}`,
    last:
      last === undefined
        ? 'no event yet'
        : `${last.type}${last.reason ? ` ${last.reason}` : ''} · ${formatAge(now - last.ts)} ago`,
    outbox: `outbox ${g.outboxDepth ?? '?'}${g.version ? ` · v${g.version}` : ''}`,
    alarms: g.openAlarms(now),
  };
}

function newTile(key) {
  return el(
    'div',
    { class: 'tile', 'data-gate': key },
    el('div', { class: 'name' }, key),
    el('div', { class: 'state' }),
    el('div', { class: 'last' }),
    el('div', { class: 'outbox' }),
    el('ul', { class: 'alarms' }),
  );
}

function fillTile(node, view) {
  node.className = `tile state-${view.state}`;
  node.dataset.state = view.state;
  node.querySelector('.state').textContent = view.stateText;
  node.querySelector('.last').textContent = view.last;
  node.querySelector('.outbox').textContent = view.outbox;
  node.querySelector('.alarms').replaceChildren(...view.alarms.map((a) => el('li', {}, a)));
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
  const newest = fleet.events()[0];
  const signature = `${site}|${gate}|${type}|${newest?.id}|${fleet.events().length}|${Math.floor(now / 10_000)}`;
  if (signature === eventsSignature) return;
  eventsSignature = signature;
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
