import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { IssuerPolicy, TrustedKey, TrustView } from '../token/types.js';
import type { OperatorKey } from './operators.js';
import { type SignedTrustList, verifyTrustList } from './signed-trust-list.js';
import { readTrustFile } from './trust-list.js';

/** Settings key of the last valid trust list JWS in the store. */
export const TRUST_SETTING = 'trust.jws';

/** What became of a trust list offered to the gate. */
export type TrustOffer =
  | { accepted: true; version: number }
  | { accepted: false; reason: 'invalid' | 'not_newer'; detail: string };

/**
 * The gate's trust list: the last valid signed list, kept in the store across restarts.
 * A list is taken only when its signature verifies with the fleet root key and its version is
 * newer than the one in force, so a replayed older list cannot bring back a retired key.
 * Acts as the TrustView of token verification, so a newer list takes effect at once.
 */
export class TrustKeeper implements TrustView {
  private list: SignedTrustList | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      store: Pick<Store, 'getSetting' | 'setSetting'>;
      rootKey: KeyObject;
      log: Logger;
    },
  ) {
    this.log = deps.log.child({ component: 'trust' });
  }

  issuer(iss: string): IssuerPolicy | undefined {
    return this.list?.view.issuer(iss);
  }

  key(iss: string, kid: string): TrustedKey | undefined {
    return this.list?.view.key(iss, kid);
  }

  /** The operations key `kid` of the list in force (signs commands and revocation lists). */
  operator(kid: string): OperatorKey | undefined {
    return this.list?.operators.get(kid);
  }

  /** Version of the list in force, or undefined when there is none. */
  version(): number | undefined {
    return this.list?.version;
  }

  /** The list in force, for `trust show` and telemetry. */
  current(): SignedTrustList | undefined {
    return this.list;
  }

  /**
   * Loads the stored list, then offers the file (the list installed at provisioning or copied
   * by a technician). Never throws: a gate with no valid list runs and denies every token.
   */
  async start(file: string): Promise<void> {
    await this.loadStored();
    if (existsSync(file)) {
      let text: string;
      try {
        text = readTrustFile(file);
      } catch (err) {
        this.log.error({ err, file }, 'trust list file unreadable');
        return;
      }
      await this.offer(text, file, 'error');
    } else if (this.list === undefined) {
      this.log.error({ file }, 'no trust list: every token will be denied');
    }
  }

  /**
   * Offers a signed list (from a file, later from MQTT); takes it when valid and newer.
   * @param level how a refused list is logged, with its reason and no stack: `warn` for
   * untrusted input (anyone may publish on the fleet topic), `error` for the installed file.
   */
  async offer(text: string, source: string, level: 'warn' | 'error' = 'warn'): Promise<TrustOffer> {
    let candidate: SignedTrustList;
    try {
      candidate = await verifyTrustList(text, this.deps.rootKey, source);
    } catch (err) {
      const detail = describeError(err);
      this.log[level]({ source, reason: detail }, 'trust list refused');
      return { accepted: false, reason: 'invalid', detail };
    }
    const current = this.list;
    if (current !== undefined && candidate.version <= current.version) {
      const detail = `version ${candidate.version} is not newer than ${current.version} in force`;
      if (candidate.jws !== current.jws)
        this.log.warn(
          { source, version: candidate.version, inForce: current.version },
          'trust list not newer, ignored',
        );
      return { accepted: false, reason: 'not_newer', detail };
    }
    this.list = candidate;
    await this.persist(candidate);
    this.log.info(
      {
        source,
        version: candidate.version,
        issuers: candidate.issuers.length,
        keys: candidate.keys.length,
      },
      'trust list in force',
    );
    return { accepted: true, version: candidate.version };
  }

  private async loadStored(): Promise<void> {
    let stored: string | undefined;
    try {
      stored = await this.deps.store.getSetting(TRUST_SETTING);
    } catch (err) {
      this.log.error({ err }, 'stored trust list unreadable');
      return;
    }
    if (stored === undefined) return;
    try {
      this.list = await verifyTrustList(stored, this.deps.rootKey, 'store');
    } catch (err) {
      // A root key changed at provisioning invalidates the stored list: say so, keep going.
      this.log.error({ err }, 'stored trust list no longer verifies; it is ignored');
    }
  }

  private async persist(list: SignedTrustList): Promise<void> {
    try {
      await this.deps.store.setSetting(TRUST_SETTING, list.jws);
    } catch (err) {
      this.log.error(
        { err, version: list.version },
        'trust list could not be stored; in force until restart',
      );
    }
  }
}
