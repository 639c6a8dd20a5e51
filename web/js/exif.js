// exif.js - what the report page needs to know about a photo before it is
// sent: its format and size in pixels, the EXIF orientation, and the GPS
// position, read from the file's bytes only (no decoding of pixels).
//
// It reads the same things the server reads, the same way (src/media:
// photo_exif.c and the JPEG, PNG and WebP walkers), so that the page and the
// server agree on a photo's position:
//  - the first EXIF block of the file: JPEG APP1 "Exif\0\0", PNG eXIf, WebP EXIF
//    in an extended (VP8X) file; none at all in a file whose segments or
//    chunks are broken (the server refuses such a file whole, and checks more
//    than this does: a photo it refuses has no position to agree on);
//  - in that block, IFD0 Orientation (SHORT, 1-8) and the GPS IFD that IFD0
//    points to (LONG or IFD, one value): GPSLatitudeRef 'N'/'S',
//    GPSLatitude, GPSLongitudeRef 'E'/'W', GPSLongitude, each three RATIONALs
//    of degrees, minutes and seconds, none with a zero denominator;
//  - a latitude over 90 or a longitude over 180 degrees, or exactly 0,0 (what
//    some phones write without a fix), is no position.
// Only IFD0 and the GPS IFD are visited, once each; no "next IFD" link is
// followed. Every offset and count is checked before it is read; the
// functions never throw: bytes that cannot be read give no position.

const TIFF_HEADER_LEN = 8;
const TIFF_MAGIC = 42;
const TIFF_ENTRY_LEN = 12;
const TIFF_INLINE_BYTES = 4;

const TAG_ORIENTATION = 0x0112;
const TAG_GPS_IFD = 0x8825;
const TAG_GPS_LAT_REF = 1;
const TAG_GPS_LAT = 2;
const TAG_GPS_LON_REF = 3;
const TAG_GPS_LON = 4;

const TIFF_ASCII = 2;
const TIFF_SHORT = 3;
const TIFF_LONG = 4;
const TIFF_RATIONAL = 5;
const TIFF_IFD = 13;
// Bytes per value of each TIFF type (1..13); 0 = a type we do not know.
const TIFF_TYPE_SIZE = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4];

const EXIF_PREFIX = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A Uint8Array over `data` (an ArrayBuffer, a typed array or a DataView),
 * or null for anything else. */
function bytesOf(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

function startsWith(b, at, sig) {
  if (at < 0 || b.length - at < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}
const ascii = (b, at, n) => String.fromCharCode(...b.subarray(at, at + n));
const be16 = (b, i) => (b[i] << 8) | b[i + 1];
const be32 = (b, i) => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
const le16 = (b, i) => b[i] | (b[i + 1] << 8);
const le24 = (b, i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const le32 = (b, i) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16)) + ((b[i + 3] << 24) >>> 0);

// ---- the TIFF structure inside an EXIF block ----

/** Where tag `tag` of the IFD at `ifd` keeps its value: {type, count, value}
 * (value: the offset of its first byte), or null when the IFD does not fit,
 * the tag is absent, its type is unknown or its value runs past the end. As
 * the server, the first entry with the tag decides. */
function tiffFind(t, ifd, tag) {
  const len = t.view.byteLength;
  if (ifd > len || len - ifd < 2) return null;
  const count = t.u16(ifd);
  if (Math.floor((len - ifd - 2) / TIFF_ENTRY_LEN) < count) return null;
  for (let i = 0; i < count; i++) {
    const at = ifd + 2 + i * TIFF_ENTRY_LEN;
    if (t.u16(at) !== tag) continue;
    const type = t.u16(at + 2);
    const n = t.u32(at + 4);
    const unit = TIFF_TYPE_SIZE[type] || 0;
    if (unit === 0 || n > Math.floor(len / unit)) return null;
    const size = unit * n;
    if (size <= TIFF_INLINE_BYTES) return { type, count: n, value: at + 8 };
    const off = t.u32(at + 8);
    if (off > len || size > len - off) return null;
    return { type, count: n, value: off };
  }
  return null;
}

/** Degrees from three RATIONALs (degrees, minutes, seconds); null if unreadable. */
function tiffDegrees(t, ifd, tag) {
  const e = tiffFind(t, ifd, tag);
  if (!e || e.type !== TIFF_RATIONAL || e.count !== 3) return null;
  const scale = [1, 60, 3600];
  let deg = 0;
  for (let i = 0; i < 3; i++) {
    const num = t.u32(e.value + 8 * i);
    const den = t.u32(e.value + 8 * i + 4);
    if (den === 0) return null;
    deg += num / den / scale[i];
  }
  return deg;
}

/** +1 when the reference's first letter is `pos`, -1 for `neg`, else 0. */
function tiffRef(t, ifd, tag, pos, neg) {
  const e = tiffFind(t, ifd, tag);
  if (!e || e.type !== TIFF_ASCII || e.count < 1) return 0;
  const c = String.fromCharCode(t.view.getUint8(e.value));
  return c === pos ? 1 : c === neg ? -1 : 0;
}

function tiffGps(t, gps) {
  const latSign = tiffRef(t, gps, TAG_GPS_LAT_REF, "N", "S");
  const lonSign = tiffRef(t, gps, TAG_GPS_LON_REF, "E", "W");
  if (!latSign || !lonSign) return null;
  const lat = tiffDegrees(t, gps, TAG_GPS_LAT);
  const lon = tiffDegrees(t, gps, TAG_GPS_LON);
  if (lat === null || lon === null) return null;
  if (lat > 90 || lon > 180 || (lat === 0 && lon === 0)) return null;
  return { lat: latSign * lat, lon: lonSign * lon };
}

/**
 * Reads an EXIF block (a TIFF structure, with or without the "Exif\0\0"
 * prefix): answers {orientation, gps}, orientation 1 when absent or not
 * 1-8, gps {lat, lon} in WGS-84 degrees (south and west negative) or null.
 * Never throws.
 */
export function readExif(data) {
  const out = { orientation: 1, gps: null };
  try {
    let b = bytesOf(data);
    if (!b) return out;
    if (startsWith(b, 0, EXIF_PREFIX)) b = b.subarray(EXIF_PREFIX.length);
    if (b.length < TIFF_HEADER_LEN) return out;
    let little;
    if (b[0] === 0x4d && b[1] === 0x4d) little = false; // "MM"
    else if (b[0] === 0x49 && b[1] === 0x49) little = true; // "II"
    else return out;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // Reads past the end raise RangeError; every caller checked first, and
    // the catch below turns a slip into "no EXIF" rather than an exception.
    const t = { view, u16: (i) => view.getUint16(i, little), u32: (i) => view.getUint32(i, little) };
    if (t.u16(2) !== TIFF_MAGIC) return out;
    const ifd0 = t.u32(4);
    const o = tiffFind(t, ifd0, TAG_ORIENTATION);
    if (o && o.type === TIFF_SHORT && o.count === 1) {
      const v = t.u16(o.value);
      if (v >= 1 && v <= 8) out.orientation = v;
    }
    const g = tiffFind(t, ifd0, TAG_GPS_IFD);
    if (g && (g.type === TIFF_LONG || g.type === TIFF_IFD) && g.count === 1) out.gps = tiffGps(t, t.u32(g.value));
  } catch {
    out.gps = null;
  }
  return out;
}

// ---- the containers ----

const M_SOI = 0xd8, M_EOI = 0xd9, M_SOS = 0xda, M_APP1 = 0xe1, M_TEM = 0x01;
const M_RST0 = 0xd0, M_RST7 = 0xd7;
const isSof = (m) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Walks a JPEG's markers as the server does: {width, height, exif} or
 * null when the structure is broken (stray bytes, a segment or scan cut
 * off, no end marker, a second frame, no frame or no scan). exif is the
 * first APP1 "Exif" block's TIFF part, or null. */
function jpegWalk(b) {
  let pos = 2, frame = null, scan = false, exif = null;
  for (;;) {
    if (pos >= b.length || b[pos] !== 0xff) return null;
    while (pos < b.length && b[pos] === 0xff) pos++;
    if (pos >= b.length) return null;
    const m = b[pos++];
    if (m === M_EOI) break;
    if (m === 0x00 || m === M_SOI) return null;
    if ((m >= M_RST0 && m <= M_RST7) || m === M_TEM) continue;
    if (b.length - pos < 2) return null;
    const seglen = be16(b, pos);
    if (seglen < 2 || seglen > b.length - pos) return null;
    const payload = pos + 2, plen = seglen - 2;
    pos += seglen;
    if (isSof(m)) {
      if (frame) return null;
      const comps = plen >= 6 ? b[payload + 5] : 0;
      if (comps === 0 || plen < 6 + 3 * comps) return null;
      frame = { height: be16(b, payload + 1), width: be16(b, payload + 3) };
    } else if (m === M_SOS) {
      if (!frame) return null;
      scan = true;
      // the entropy-coded data ends at an 0xFF that is not 0xFF00 or a restart
      let i = pos;
      for (;;) {
        const ff = b.indexOf(0xff, i);
        if (ff < 0 || ff + 1 >= b.length) return null;
        const next = b[ff + 1];
        if (next !== 0x00 && !(next >= M_RST0 && next <= M_RST7)) { i = ff; break; }
        i = ff + 2;
      }
      pos = i;
    } else if (m === M_APP1 && !exif && plen >= EXIF_PREFIX.length && startsWith(b, payload, EXIF_PREFIX)) {
      exif = b.subarray(payload + EXIF_PREFIX.length, payload + plen);
    }
  }
  if (!frame || !scan) return null;
  return { width: frame.width, height: frame.height, exif };
}

/** A PNG's size and first eXIf chunk, or null when its chunks run past the
 * end, IHDR is not first or IEND never comes. (The server also checks each
 * chunk's CRC; a file that fails that is refused there whatever we say.) */
function pngWalk(b) {
  let pos = PNG_SIGNATURE.length, size = null, exif = null;
  for (;;) {
    if (b.length - pos < 12) return null;
    const n = be32(b, pos);
    if (n > 0x7fffffff || n > b.length - pos - 12) return null;
    const type = ascii(b, pos + 4, 4);
    const data = pos + 8;
    if ((pos === PNG_SIGNATURE.length) !== (type === "IHDR")) return null;
    pos += n + 12;
    if (type === "IHDR") {
      if (n !== 13) return null;
      size = { width: be32(b, data), height: be32(b, data + 4) };
    } else if (type === "IEND") break;
    else if (type === "eXIf" && !exif) exif = b.subarray(data, data + n);
  }
  return { width: size.width, height: size.height, exif };
}

/** A WebP's canvas and (extended files only) first EXIF chunk, or null
 * when the RIFF or a chunk runs past the end. */
function webpWalk(b) {
  const size = le32(b, 4);
  if (size < 4 + 8 || size > b.length - 8) return null;
  const end = 8 + size;
  let pos = 12, width = 0, height = 0, exif = null, extended = false;
  while (pos < end) {
    if (end - pos < 8) return null;
    const n = le32(b, pos + 4);
    if (n > end - pos - 8) return null;
    const cc = ascii(b, pos, 4), data = pos + 8;
    if (pos === 12) {
      if (cc === "VP8X") {
        if (n < 10) return null;
        extended = true;
        width = le24(b, data + 4) + 1;
        height = le24(b, data + 7) + 1;
      } else if (cc === "VP8 " && n >= 10) {
        width = le16(b, data + 6) & 0x3fff;
        height = le16(b, data + 8) & 0x3fff;
      } else if (cc === "VP8L" && n >= 5) {
        const bits = le32(b, data + 1);
        width = (bits & 0x3fff) + 1;
        height = ((bits >>> 14) & 0x3fff) + 1;
      }
      if (!extended) break; // a simple file: one bitstream, no EXIF
    } else if (cc === "EXIF" && !exif) exif = b.subarray(data, data + n);
    pos += Math.min(8 + n + (n & 1), end - pos);
  }
  return { width, height, exif };
}

/**
 * What the page needs of a photo's bytes: {type ("image/jpeg", "image/png",
 * "image/webp", or null for anything else), width, height (0 when not
 * known), orientation (1-8), gps ({lat, lon} or null)}. The type is
 * recognised by the first bytes, as the server does; a file whose structure
 * the server would refuse gets no orientation and no position (its size is
 * still given when it could be read). Never throws.
 */
export function readPhoto(data) {
  const out = { type: null, width: 0, height: 0, orientation: 1, gps: null };
  try {
    const b = bytesOf(data);
    if (!b) return out;
    let walk = null;
    if (b.length >= 3 && b[0] === 0xff && b[1] === M_SOI && b[2] === 0xff) {
      out.type = "image/jpeg";
      walk = jpegWalk(b);
    } else if (startsWith(b, 0, PNG_SIGNATURE)) {
      out.type = "image/png";
      walk = pngWalk(b);
    } else if (b.length >= 16 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 7) === "WEBPVP8" &&
               " LX".includes(String.fromCharCode(b[15]))) {
      out.type = "image/webp";
      walk = webpWalk(b);
    }
    if (!walk) return out;
    out.width = walk.width;
    out.height = walk.height;
    if (walk.exif) Object.assign(out, readExif(walk.exif));
  } catch {
    out.orientation = 1;
    out.gps = null;
  }
  return out;
}

/** readPhoto of a File or Blob (the whole file is read: the server reads
 * every byte too, and an EXIF block may sit anywhere before the end). */
export async function readPhotoFile(file) {
  try {
    return readPhoto(await file.arrayBuffer());
  } catch {
    return readPhoto(null);
  }
}
