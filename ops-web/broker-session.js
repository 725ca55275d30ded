// The page's one connection to the broker: anonymous, or with the user name and password the
// operator typed. They travel from this page straight to the broker in the CONNECT packet
// (MQTT 3.1.1 §3.1.3.4 and §3.1.3.5), over the page's ws:// or wss:// broker URL; the ops
// server never sees them.

/** CONNACK return codes other than 0, MQTT 3.1.1 §3.2.2.3, table 3.1. */
const CONNACK_TEXT = new Map([
  [1, 'unacceptable protocol version'],
  [2, 'client identifier rejected'],
  [3, 'server unavailable'],
  [4, 'bad user name or password'],
  [5, 'not authorised'],
]);
/** Codes that refuse who the client is: ask for (other) credentials, never retry alone. */
const LOGIN_CODES = new Set([4, 5]);
/** Time between reconnection attempts, ms (mqtt.js `reconnectPeriod`). */
const RECONNECT_MS = 2000;
/** Wait before trying again after a refusal that is not about credentials, ms. */
const RETRY_REFUSED_MS = 5000;

/**
 * @typedef {{ username: string, password: string }} Credentials
 * @typedef {'connecting' | 'connected' | 'unreachable' | 'lost' | 'needs-login'
 *   | 'login-refused' | 'refused' | 'read-refused'} LinkKind
 * @typedef {{ kind: LinkKind, text: string, detail: string }} LinkState
 *   `text` fits the header; `detail` says why and what to do, for the login form.
 */

export class BrokerSession {
  #mqtt;
  #url;
  #hooks;
  /** @type {any} the current mqtt.js client */
  #client;
  /** @type {Credentials | undefined} */
  #credentials;
  #retryTimer;
  /** @type {LinkKind | undefined} */
  #lastKind;

  /**
   * @param {any} mqtt the mqtt.js browser API
   * @param {string} url the broker's WebSocket URL, ws:// or wss://
   * @param {{ filters: string[], onState: (state: LinkState) => void,
   *   onMessage: (topic: string, payload: Uint8Array) => void }} hooks
   */
  constructor(mqtt, url, hooks) {
    this.#mqtt = mqtt;
    this.#url = url;
    this.#hooks = hooks;
  }

  /** The user name of the current connection; undefined when anonymous or stopped. */
  get username() {
    return this.#credentials?.username;
  }

  /**
   * Connects, ending any earlier connection: anonymously when `credentials` is undefined.
   * Reconnects by itself while the broker is unreachable, never after a refused login.
   * @param {Credentials | undefined} credentials
   */
  start(credentials) {
    this.stop();
    this.#credentials = credentials;
    const client = this.#mqtt.connect(this.#url, {
      clientId: `ridergate-ops-web-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      reconnectPeriod: RECONNECT_MS,
      protocolVersion: 4,
      ...(credentials === undefined
        ? {}
        : { username: credentials.username, password: credentials.password }),
    });
    this.#client = client;
    this.#report('connecting');
    const current = () => this.#client === client;
    let wasConnected = false;
    let refused = false;
    client.on('connect', () => {
      if (!current()) return;
      wasConnected = true;
      this.#report('connected');
      client.subscribe(this.#hooks.filters, { qos: 1 }, (err) => {
        if (current() && err !== null && err !== undefined) this.#report('read-refused');
      });
    });
    client.on('error', (err) => {
      const text = CONNACK_TEXT.get(err?.code);
      // Errors of the socket itself are followed by 'close', which says "unreachable".
      if (!current() || text === undefined || refused) return;
      refused = true;
      client.end(true);
      this.#refused(err.code, text);
    });
    client.on('close', () => {
      if (current() && !refused) this.#report(wasConnected ? 'lost' : 'unreachable');
    });
    client.on('message', (topic, payload) => {
      if (current()) this.#hooks.onMessage(topic, payload);
    });
  }

  /** Ends the connection and forgets the credentials. */
  stop() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#client?.end(true);
    this.#client = undefined;
    this.#credentials = undefined;
    this.#lastKind = undefined;
  }

  /** A CONNACK refusal: a login for codes 4 and 5, else a retry with the same credentials. */
  #refused(code, text) {
    if (LOGIN_CODES.has(code)) {
      const user = this.#credentials?.username;
      this.#credentials = undefined;
      this.#report(user === undefined ? 'needs-login' : 'login-refused', { code, text, user });
      return;
    }
    const credentials = this.#credentials;
    this.#report('refused', { code, text });
    this.#retryTimer = setTimeout(() => this.start(credentials), RETRY_REFUSED_MS);
  }

  /**
   * @param {LinkKind} kind
   * @param {{ code?: number, text?: string, user?: string }} why
   */
  #report(kind, why = {}) {
    if (kind === this.#lastKind && kind !== 'login-refused') return;
    this.#lastKind = kind;
    this.#hooks.onState({ kind, ...describe(kind, this.#url, this.username, why) });
  }
}

/**
 * What the operator reads for a link state.
 * @param {LinkKind} kind
 * @param {string} url
 * @param {string | undefined} username of the connection
 * @param {{ code?: number, text?: string, user?: string }} why
 * @returns {{ text: string, detail: string }}
 */
function describe(kind, url, username, why) {
  const as = username === undefined ? '' : ` as ${username}`;
  const unchecked =
    username === undefined ? '' : ' The user name and password have not been checked yet.';
  switch (kind) {
    case 'connecting':
      return { text: `connecting to ${url}${as}…`, detail: `Connecting to ${url}${as}…` };
    case 'connected':
      return { text: `connected to ${url}${as}`, detail: '' };
    case 'unreachable':
      return {
        text: `cannot reach the broker at ${url}; retrying…`,
        detail: `Cannot reach the broker at ${url}: no answer to the connection.${unchecked} Retrying every ${RECONNECT_MS / 1000} s…`,
      };
    case 'lost':
      return {
        text: 'connection to the broker lost; retrying…',
        detail: `The connection to ${url} was lost. Retrying every ${RECONNECT_MS / 1000} s…`,
      };
    case 'needs-login':
      return {
        text: 'the broker needs a user name and password',
        detail: `The broker at ${url} refused an anonymous connection (${why.text}): log in with a broker user name and password.`,
      };
    case 'login-refused':
      return {
        text: `the broker refused user ${why.user}`,
        detail:
          why.code === 4
            ? `Wrong user name or password: the broker refused user “${why.user}” (${why.text}).`
            : `Wrong user name or password, or user “${why.user}” may not connect: the broker refused the login (${why.text}).`,
      };
    case 'refused':
      return {
        text: `the broker refused the connection (${why.text}); trying again in ${RETRY_REFUSED_MS / 1000} s`,
        detail: `The broker at ${url} refused the connection (${why.text}). Trying again in ${RETRY_REFUSED_MS / 1000} s…`,
      };
    case 'read-refused':
      return {
        text: `connected${as}, but the broker does not let this user read the gates' topics`,
        detail: '',
      };
  }
}
