import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';

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

// jsqr is CommonJS with `exports.default`: under NodeNext the callable sits one level down.
const jsQR = jsQRModule.default;

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
