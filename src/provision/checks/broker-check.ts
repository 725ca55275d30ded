import { probeBroker } from '../../link/broker-probe.js';
import { redactUrl } from '../../link/client-options.js';
import { readSecretFile } from '../../link/secret-file.js';
import { gateTopics } from '../../link/topics.js';
import type { CheckInput, CheckResult } from '../check.js';
import { failed } from '../check.js';

const CHECK = 'broker';

/** Longest wait for each step of the broker check, ms. */
export const BROKER_TIMEOUT_MS = 5_000;

/**
 * Connects to the broker with the gate's real credentials (mqtt.username, mqtt.passwordFile,
 * TLS files) and publishes a test message to `{prefix}/{site}/{gate}/selftest`, receiving it
 * back through a subscription. The client id is the gate's with `-check` appended, so a
 * running gate is not thrown off the broker.
 */
export async function checkBroker(
  { config }: CheckInput,
  timeoutMs = BROKER_TIMEOUT_MS,
): Promise<CheckResult> {
  const m = config.mqtt;
  let password: string | undefined;
  try {
    password =
      m.passwordFile === undefined
        ? undefined
        : readSecretFile(m.passwordFile, 'mqtt.passwordFile');
  } catch (err) {
    return failed(CHECK, err, 'write the broker password into mqtt.passwordFile (mode 0600)');
  }
  const topic = `${gateTopics(m.prefix, config.gate.site, config.gate.id).status.replace(/\/status$/, '')}/selftest`;
  const result = await probeBroker({
    url: m.url,
    clientId: `${m.clientId ?? `${config.gate.site}-${config.gate.id}`}-check`,
    username: m.username,
    password,
    caFile: m.caFile,
    certFile: m.certFile,
    keyFile: m.keyFile,
    topic,
    timeoutMs,
  });
  const where = redactUrl(m.url);
  if (result.stage === 'done')
    return { check: CHECK, status: 'ok', detail: `${where}: ${result.detail}` };
  return {
    check: CHECK,
    status: 'fail',
    detail: `${where}: ${result.detail}`,
    fix: fixFor(result),
  };
}

function fixFor(result: { stage: string; detail: string; refusedCode?: number }): string {
  if (result.refusedCode === 4 || result.refusedCode === 5)
    return 'check mqtt.username and the password in mqtt.passwordFile against the broker (mosquitto_passwd)';
  if (/certificate|self[- ]signed|ssl|tls/i.test(result.detail))
    return "set mqtt.caFile to the CA that signed the broker's certificate, and check the host name in mqtt.url matches that certificate";
  if (result.stage === 'subscribe' || result.stage === 'echo')
    return 'let this user read and write {prefix}/{site}/{gate}/# in the broker ACL';
  return 'check mqtt.url (host, port, mqtt:// or mqtts://), the TLS files and that the broker is reachable';
}
