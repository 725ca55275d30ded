// The login form and the header's account buttons. The password is read from the form, handed
// to the broker session and, only when the operator ticks "remember for this tab", kept in
// this tab's sessionStorage (gone when the tab closes; never in localStorage or a cookie, so
// it never reaches the ops server).

/** sessionStorage key of remembered credentials, `{ username, password }` as JSON. */
const REMEMBER_KEY = 'ridergate-ops-login';
/** sessionStorage key set by "Log out", read once by the reloaded page. */
const LOGGED_OUT_KEY = 'ridergate-ops-logged-out';

/**
 * @typedef {import('./broker-session.js').Credentials} Credentials
 * @typedef {import('./broker-session.js').LinkState} LinkState
 */

/** @returns {Credentials | undefined} credentials remembered in this tab */
export function rememberedCredentials() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(REMEMBER_KEY) ?? 'null');
    if (typeof saved?.username === 'string' && typeof saved?.password === 'string')
      return { username: saved.username, password: saved.password };
  } catch {
    // Not JSON: forgotten below.
  }
  sessionStorage.removeItem(REMEMBER_KEY);
  return undefined;
}

/** True once after "Log out" reloaded the page: the page then waits for a login. */
export function justLoggedOut() {
  const out = sessionStorage.getItem(LOGGED_OUT_KEY) !== null;
  sessionStorage.removeItem(LOGGED_OUT_KEY);
  return out;
}

export class LoginPanel {
  #$;
  #hooks;
  #rememberOnConnect = false;
  /** @type {Credentials | undefined} the login waiting for the broker's answer */
  #pending;

  /**
   * @param {(id: string) => any} $ finds an element by id
   * @param {{ brokerWs: string, username?: string,
   *   onLogin: (credentials: Credentials) => void, onLogout: () => void }} hooks
   */
  constructor($, hooks) {
    this.#$ = $;
    this.#hooks = hooks;
    $('login-username').value = hooks.username ?? '';
    $('login-plain').hidden = !sendsInClear(hooks.brokerWs);
    $('login').addEventListener('submit', (e) => {
      e.preventDefault();
      this.#submit();
    });
    $('login-cancel').addEventListener('click', () => this.hide());
    $('login-open').addEventListener('click', () => this.show(''));
    $('logout').addEventListener('click', () => this.#logout());
    this.#account(undefined);
  }

  /** Shows the form with `message` (empty: none), focused where the operator types next. */
  show(message) {
    this.#$('login-message').textContent = message;
    this.#$('login-panel').hidden = false;
    const user = this.#$('login-username');
    (user.value === '' ? user : this.#$('login-password')).focus();
  }

  hide() {
    this.#$('login-panel').hidden = true;
  }

  /**
   * Follows the broker session: hides the form once connected, shows it with the reason when
   * the broker wants credentials or refused them, says when a login cannot reach the broker.
   * @param {LinkState} state
   * @param {string | undefined} username of the session
   */
  update(state, username) {
    if (state.kind === 'connected') {
      if (this.#pending !== undefined && this.#rememberOnConnect)
        sessionStorage.setItem(REMEMBER_KEY, JSON.stringify(this.#pending));
      this.#pending = undefined;
      this.#$('login-password').value = '';
      this.hide();
    } else if (state.kind === 'needs-login' || state.kind === 'login-refused') {
      sessionStorage.removeItem(REMEMBER_KEY);
      this.#pending = undefined;
      this.#$('login-password').value = '';
      this.show(state.detail);
    } else if (this.#pending !== undefined || !this.#$('login-panel').hidden) {
      this.#$('login-message').textContent = state.detail;
    }
    this.#account(username);
  }

  #submit() {
    const credentials = {
      username: this.#$('login-username').value,
      password: this.#$('login-password').value,
    };
    this.#rememberOnConnect = this.#$('login-remember').checked;
    sessionStorage.removeItem(REMEMBER_KEY);
    this.#pending = credentials;
    this.#hooks.onLogin(credentials);
  }

  #logout() {
    sessionStorage.removeItem(REMEMBER_KEY);
    sessionStorage.setItem(LOGGED_OUT_KEY, '1');
    this.#hooks.onLogout();
  }

  /** The header: "user NAME" and Log out when logged in, else Log in. */
  #account(username) {
    this.#$('account-user').textContent = username === undefined ? '' : `user ${username}`;
    this.#$('logout').hidden = username === undefined;
    this.#$('login-open').hidden = username !== undefined;
  }
}

/** True when the password would cross a network unencrypted: ws:// to another machine. */
function sendsInClear(brokerWs) {
  const url = new URL(brokerWs);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return url.protocol === 'ws:' && !loopback;
}
