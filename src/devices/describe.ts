import type { LineSettings } from '../scanner/settings.js';
import type { DeviceProfile } from './profile-schema.js';

const PARITY_LETTER = { none: 'N', even: 'E', odd: 'O', mark: 'M', space: 'S' } as const;

/** Printable form of bytes to strip: printable ASCII as is, anything else as \xNN. */
function escaped(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte >= 0x21 && byte < 0x7f
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** A scanner line in one short phrase, e.g. `115200 8N1, cr, strip ]Q1`. */
export function describeLine(line: LineSettings): string {
  const parts = [
    `${line.baudRate} ${line.dataBits}${PARITY_LETTER[line.parity]}${line.stopBits}`,
    line.terminator,
  ];
  if (line.framing === 'stx-etx') parts.push('STX/ETX');
  if (line.stripPrefix !== '') parts.push(`strip prefix ${escaped(line.stripPrefix)}`);
  if (line.stripSuffix !== '') parts.push(`strip suffix ${escaped(line.stripSuffix)}`);
  if (line.stripBom) parts.push('strip BOM');
  if (line.stripControl) parts.push('strip edge control bytes');
  return parts.join(', ');
}

/** A profile's settings in one short phrase, for `ridergate devices`. */
export function describeProfileSettings(profile: DeviceProfile): string {
  if (profile.kind === 'scanner') return describeLine(profile.scanner);
  const { channels, activeLow, pins } = profile.relay;
  return `${channels} ch, active ${activeLow ? 'low' : 'high'}, BCM ${pins.join(',')}`;
}
