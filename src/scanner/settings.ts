import type { Config } from '../config/schema.js';

type ScannerConfig = Config['scanner'];

/** The settings of a scanner's line a device profile gives and the configuration may override. */
export type LineSettings = Required<
  Pick<
    ScannerConfig,
    | 'baudRate'
    | 'dataBits'
    | 'parity'
    | 'stopBits'
    | 'terminator'
    | 'framing'
    | 'stripPrefix'
    | 'stripSuffix'
    | 'stripBom'
    | 'stripControl'
  >
>;

/** The names of {@link LineSettings}, in the order `ridergate devices` shows them. */
export const LINE_SETTING_KEYS = [
  'baudRate',
  'dataBits',
  'parity',
  'stopBits',
  'terminator',
  'framing',
  'stripPrefix',
  'stripSuffix',
  'stripBom',
  'stripControl',
] as const satisfies readonly (keyof LineSettings)[];

/** The line without a profile: 9600 8N1, any CR/LF run ends a scan, nothing stripped. */
export const DEFAULT_LINE_SETTINGS: LineSettings = {
  baudRate: 9600,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  terminator: 'auto',
  framing: 'none',
  stripPrefix: '',
  stripSuffix: '',
  stripBom: false,
  stripControl: false,
};

/** An unfinished line with no new byte for this long is dropped (config `staleLineMs`). */
export const DEFAULT_STALE_LINE_MS = 500;

/** What a scanner driver runs with: the configuration with its profile applied. */
export type ScannerSettings = ScannerConfig & LineSettings & { staleLineMs: number };

/** The parts of {@link LineSettings} that say what is cut off each frame. */
export type UnwrapSettings = Pick<
  LineSettings,
  'framing' | 'stripPrefix' | 'stripSuffix' | 'stripBom' | 'stripControl'
>;

/** `partial`'s line settings that are set, over {@link DEFAULT_LINE_SETTINGS}. */
export function lineSettingsOf(partial: Partial<LineSettings>): LineSettings {
  const line: LineSettings = { ...DEFAULT_LINE_SETTINGS };
  for (const key of LINE_SETTING_KEYS) {
    const value = partial[key];
    if (value !== undefined) Object.assign(line, { [key]: value });
  }
  return line;
}
