import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { failed, type Parsed, parsed } from '../token/result.js';

export type QrLevel = 'L' | 'M' | 'Q' | 'H';

/** A rendered QR code: the PNG bytes and what the symbol is. */
export interface QrImage {
  png: Buffer;
  /** QR version, 1-40: 8 or lower is the RP1 target at level M. */
  version: number;
  level: QrLevel;
  /** Modules per side. */
  modules: number;
}

/** Largest PNG side decoded, pixels: a phone screenshot is far below; a decompression bomb not. */
export const MAX_PNG_SIDE_PX = 8192;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// jsqr is CommonJS with `exports.default`: under NodeNext the callable sits one level down.
const jsQR = jsQRModule.default;

/** The QR version `text` needs at error-correction `level` (what `renderQr` would draw). */
export function qrVersion(text: string, level: QrLevel = 'M'): number {
  return QRCode.create(text, { errorCorrectionLevel: level }).version;
}

/** Renders `text` as a PNG QR code at error-correction `level`. */
export async function renderQr(text: string, level: QrLevel = 'M', scale = 4): Promise<QrImage> {
  const symbol = QRCode.create(text, { errorCorrectionLevel: level });
  const png = await QRCode.toBuffer(text, {
    errorCorrectionLevel: level,
    scale,
    margin: 4,
    type: 'png',
  });
  return { png, version: symbol.version, level, modules: symbol.modules.size };
}

/** Decodes the first QR code found in a PNG image, as a camera-based reader would. */
export function decodeQrPng(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  return jsQR(pixels, image.width, image.height)?.data;
}

/**
 * Like `decodeQrPng` for bytes from anywhere (a file a user names): checks the PNG signature
 * and the image size before decoding, and says what is wrong instead of throwing.
 */
export function decodeQrPngChecked(png: Buffer): Parsed<string> {
  if (png.length < 24 || !png.subarray(0, 8).equals(PNG_MAGIC)) {
    return failed('not a PNG image (no PNG signature)');
  }
  // PNG spec section 11.2.2: IHDR comes first; width and height are its first two 4-byte fields.
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  if (width > MAX_PNG_SIDE_PX || height > MAX_PNG_SIDE_PX) {
    return failed(`image is ${width}×${height} pixels; at most ${MAX_PNG_SIDE_PX} a side`);
  }
  let text: string | undefined;
  try {
    text = decodeQrPng(png);
  } catch {
    return failed('the PNG image could not be decoded (damaged or unsupported)');
  }
  if (text === undefined) return failed('no QR code found in the image');
  return parsed(text);
}
