// A small PNG reader (node builtins only) and the checks the end-to-end tests make on screenshots:
// valid file (signature, chunk CRCs, IHDR, IEND), sensible size, not blank, and colours where the DOM
// says they should be.
import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS = { 0: 1, 2: 3, 4: 2, 6: 4 }; // grey, RGB, grey+alpha, RGBA (8 bits each)

/** Decodes an 8-bit, non-interlaced PNG. Throws on anything malformed. */
export function decodePng(buffer) {
  buffer = Buffer.from(buffer);
  if (buffer.length < 8 || !buffer.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let offset = 8;
  let header = null;
  const data = [];
  let ended = false;
  while (offset < buffer.length) {
    if (offset + 12 > buffer.length) throw new Error('truncated chunk');
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const end = offset + 8 + length;
    if (end + 4 > buffer.length) throw new Error(`truncated ${type} chunk`);
    const body = buffer.subarray(offset + 8, end);
    const crc = buffer.readUInt32BE(end);
    if (crc32(buffer.subarray(offset + 4, end)) !== crc) throw new Error(`bad CRC in ${type} chunk`);
    if (type === 'IHDR') {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8],
        colorType: body[9],
        interlace: body[12],
      };
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    offset = end + 4;
  }
  if (!header) throw new Error('no IHDR chunk');
  if (!ended) throw new Error('no IEND chunk');
  const { width, height, bitDepth, colorType, interlace } = header;
  const channels = CHANNELS[colorType];
  if (bitDepth !== 8 || !channels || interlace !== 0) {
    throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`);
  }
  if (width === 0 || height === 0) throw new Error('empty image');
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`image data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : null;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = prev ? prev[x] : 0;
      const c = prev && x >= channels ? prev[x - channels] : 0;
      let value;
      switch (filter) {
        case 0: value = line[x]; break;
        case 1: value = line[x] + a; break;
        case 2: value = line[x] + b; break;
        case 3: value = line[x] + ((a + b) >> 1); break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          value = line[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: throw new Error(`bad filter type ${filter} on row ${y}`);
      }
      out[x] = value & 0xff;
    }
  }
  return {
    width,
    height,
    /** [r, g, b] of a pixel (alpha ignored: screenshots are opaque). */
    rgb(x, y) {
      const i = (y * width + x) * channels;
      return channels >= 3 ? [pixels[i], pixels[i + 1], pixels[i + 2]] : [pixels[i], pixels[i], pixels[i]];
    },
  };
}

export const hexToRgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const near = (rgb, target, tolerance) => rgb.every((value, i) => Math.abs(value - target[i]) <= tolerance);

/** Fraction of the pixels in a rectangle (image pixels) that have the colour. */
export function colourShare(image, rect, colour, tolerance = 10) {
  const x0 = Math.max(0, Math.floor(rect.x));
  const y0 = Math.max(0, Math.floor(rect.y));
  const x1 = Math.min(image.width, Math.ceil(rect.x + rect.width));
  const y1 = Math.min(image.height, Math.ceil(rect.y + rect.height));
  let match = 0;
  let total = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      total++;
      if (near(image.rgb(x, y), colour, tolerance)) match++;
    }
  }
  return total ? match / total : 0;
}

/** Pixels of the whole image with the colour. */
export function countColour(image, colour, tolerance = 10) {
  let count = 0;
  for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) if (near(image.rgb(x, y), colour, tolerance)) count++;
  return count;
}

/**
 * The generic screenshot checks: a valid PNG of sensible size that is not blank (many colours, no single
 * colour over 97% of it). Returns the decoded image; throws with what is wrong.
 */
export function checkScreenshot(buffer, { minWidth = 400, minHeight = 300, maxSide = 5000 } = {}) {
  const image = decodePng(buffer);
  const { width, height } = image;
  if (width < minWidth || height < minHeight || width > maxSide || height > maxSide) {
    throw new Error(`screenshot is ${width}×${height}, expected at least ${minWidth}×${minHeight} and at most ${maxSide} a side`);
  }
  const counts = new Map();
  let samples = 0;
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const key = image.rgb(x, y).join(',');
      counts.set(key, (counts.get(key) || 0) + 1);
      samples++;
    }
  }
  const top = Math.max(...counts.values()) / samples;
  if (counts.size < 16) throw new Error(`screenshot looks blank: only ${counts.size} distinct colours`);
  if (top > 0.97) throw new Error(`screenshot looks blank: one colour covers ${(top * 100).toFixed(1)}% of it`);
  return image;
}
