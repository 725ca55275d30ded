import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';

/**
 * A finder of the line on which a setting is written in a YAML file: `relay.pulseMs` → 12.
 * Used to point a configuration error at the line to correct. Never throws; undefined when
 * the setting is not written in the text (it came from the defaults or the environment).
 */
export function fieldLineFinder(text: string): (fieldPath: string) => number | undefined {
  const lines = new LineCounter();
  let doc: ReturnType<typeof parseDocument> | undefined;
  try {
    doc = parseDocument(text, { lineCounter: lines });
  } catch {
    doc = undefined;
  }
  return (fieldPath) => {
    if (doc === undefined) return undefined;
    const parts = fieldPath.split('.');
    const key = parts.pop();
    const parent = parts.length === 0 ? doc.contents : doc.getIn(parts, true);
    if (key === undefined || !isMap(parent)) return undefined;
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    const offset = pair !== undefined && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}
