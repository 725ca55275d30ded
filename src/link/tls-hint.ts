import type { Logger } from '../log.js';

/** OpenSSL / Node error codes of a broker certificate that failed verification. */
const CERT_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the broker's certificate does not chain to a trusted CA: set mqtt.caFile to the CA that signed it",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the broker's certificate does not chain to a trusted CA: set mqtt.caFile to the CA that signed it",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the broker's certificate chain ends in a CA the gate does not trust: set mqtt.caFile to it",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    'the broker presents a self-signed certificate: set mqtt.caFile to that certificate',
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the broker's certificate does not name the host in mqtt.url: use the name the certificate was made for",
  CERT_HAS_EXPIRED: "the broker's certificate has expired (or the gate's clock is wrong)",
  CERT_NOT_YET_VALID: "the broker's certificate is not valid yet (or the gate's clock is behind)",
};

/**
 * A line a technician can act on for a TLS error of the broker connection, as log fields
 * (`tls`, `hint`); none for other errors. Never includes key material or passwords.
 */
export function tlsHint(err: unknown): { tls?: string; hint?: string } {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CERT_CODES[code] !== undefined) {
    return { tls: 'broker_certificate_rejected', hint: CERT_CODES[code] };
  }
  const message = err instanceof Error ? err.message : '';
  if (/certificate required|alert number 116|tlsv13 alert certificate required/i.test(message)) {
    return {
      tls: 'client_certificate_required',
      hint: 'the broker asks for a client certificate: set mqtt.certFile and mqtt.keyFile',
    };
  }
  if (/alert (bad certificate|unknown ca)|alert number 4[28]/i.test(message)) {
    return {
      tls: 'client_certificate_rejected',
      hint: "the broker refused the gate's client certificate: is it signed by the broker's CA?",
    };
  }
  return {};
}

/** The loud line of `mqtt.tlsInsecure: true`, at every start (level error). */
export function warnIfTlsInsecure(log: Logger, insecure: boolean | undefined): void {
  if (insecure !== true) return;
  log.error(
    { field: 'mqtt.tlsInsecure' },
    'broker certificate verification is OFF: anyone on the network can pose as the broker',
  );
}
