#!/usr/bin/env python3
"""make_photo_corpus.py - writes the seed corpus of fuzz_photo into
fuzz/corpus/fuzz_photo/: a few tiny valid photos (JPEG, PNG, WebP) with EXIF
orientation and GPS, and multipart bodies that carry them.

Each file is built from the formats' specifications with the standard
library only, so the seeds can be regenerated and reviewed as text:

    python3 fuzz/make_photo_corpus.py

The seeds are deterministic; running the script again rewrites the same
bytes. Inputs libFuzzer finds later are merged in beside them (fuzz/run.sh,
FUZZ_MERGE=1).
"""
import pathlib
import struct
import zlib

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "fuzz_photo"

# 39°55'19"N 116°26'37"E
LAT = ((39, 1), (55, 1), (19, 1))
LON = ((116, 1), (26, 1), (37, 1))


def tiff(big: bool, orientation: int, gps: bool = True) -> bytes:
    """IFD0 (Orientation, GPS pointer), then the GPS IFD and its RATIONALs."""
    e = ">" if big else "<"
    n0 = 1 + (1 if gps else 0)
    gps_ifd = 8 + 2 + 12 * n0 + 4
    rationals = gps_ifd + 2 + 4 * 12 + 4

    def entry(tag, typ, count, value: bytes) -> bytes:
        return struct.pack(e + "HHI", tag, typ, count) + value.ljust(4, b"\0")

    out = (b"MM" if big else b"II") + struct.pack(e + "HI", 42, 8)
    out += struct.pack(e + "H", n0)
    out += entry(0x0112, 3, 1, struct.pack(e + "H", orientation))
    if gps:
        out += entry(0x8825, 4, 1, struct.pack(e + "I", gps_ifd))
    out += struct.pack(e + "I", 0)
    if not gps:
        return out
    out += struct.pack(e + "H", 4)
    out += entry(1, 2, 2, b"N\0")
    out += entry(2, 5, 3, struct.pack(e + "I", rationals))
    out += entry(3, 2, 2, b"E\0")
    out += entry(4, 5, 3, struct.pack(e + "I", rationals + 24))
    out += struct.pack(e + "I", 0)
    for num, den in LAT + LON:
        out += struct.pack(e + "II", num, den)
    return out


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(exif: bytes) -> bytes:
    """A 1x1 baseline greyscale JPEG: one block, DC 0 then end-of-block,
    each the one-bit code 0 of a one-code Huffman table."""
    jfif = b"JFIF\0" + bytes([1, 2, 1, 0, 72, 0, 72, 0, 0])
    dht = bytes([1] + [0] * 15 + [0])
    return (b"\xff\xd8" + jpeg_segment(0xE0, jfif)
            + jpeg_segment(0xE1, b"Exif\0\0" + exif)
            + jpeg_segment(0xFE, b"a comment")
            + jpeg_segment(0xDB, b"\0" + b"\1" * 64)
            + jpeg_segment(0xC0, bytes([8, 0, 1, 0, 1, 1, 1, 0x11, 0]))
            + jpeg_segment(0xC4, b"\x00" + dht)
            + jpeg_segment(0xC4, b"\x10" + dht)
            + jpeg_segment(0xDA, bytes([1, 1, 0, 0, 63, 0]))
            + b"\x3f\xff\xd9")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(exif: bytes) -> bytes:
    """2x2 RGB, deflated by zlib, with gAMA, tEXt and eXIf."""
    rows = b"".join(b"\0" + bytes([255, 0, 0, 0, 255, 0]) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + png_chunk(b"gAMA", struct.pack(">I", 45455))
            + png_chunk(b"tEXt", b"Comment\0hello")
            + png_chunk(b"eXIf", exif)
            + png_chunk(b"IDAT", zlib.compress(rows, 9))
            + png_chunk(b"IEND", b""))


# A 1x1 lossless bitstream: header (14-bit width-1 and height-1, no alpha,
# version 0), no transform, no colour cache, five one-symbol prefix codes.
VP8L_1X1 = bytes([0x2F, 0, 0, 0, 0, 0x88, 0x88, 0xFE, 0x07])


def riff_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


def riff(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def webp_simple() -> bytes:
    return riff(riff_chunk(b"VP8L", VP8L_1X1))


def webp_extended(exif: bytes) -> bytes:
    flags = 0x20 | 0x08 | 0x04  # ICC, EXIF, XMP
    vp8x = bytes([flags, 0, 0, 0]) + (0).to_bytes(3, "little") * 2
    return riff(riff_chunk(b"VP8X", vp8x) + riff_chunk(b"ICCP", b"profile")
                + riff_chunk(b"VP8L", VP8L_1X1) + riff_chunk(b"EXIF", exif)
                + riff_chunk(b"XMP ", b"<x:xmpmeta/>"))


def form(boundary: bytes, photo: bytes, filename: bytes, mime: bytes) -> bytes:
    d = b"--" + boundary
    return (d + b"\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n"
            + "楼道堆物".encode() + b"\r\n"
            + d + b"\r\nContent-Disposition: form-data; name=\"photo\"; filename=\""
            + filename + b"\"\r\nContent-Type: " + mime + b"\r\n\r\n" + photo + b"\r\n"
            + d + b"--\r\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    boundary = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
    seeds = {
        "jpeg-exif-big-endian": jpeg(tiff(True, 6)),
        "jpeg-exif-little-endian": jpeg(tiff(False, 3)),
        "png-exif": png(tiff(False, 1)),
        "webp-lossless": webp_simple(),
        "webp-extended-exif": webp_extended(tiff(True, 8)),
        # The first line is the Content-Type; the rest is the body.
        "form-jpeg": b"multipart/form-data; boundary=" + boundary + b"\n"
        + form(boundary, jpeg(tiff(True, 6)), "楼道.jpg".encode(), b"image/jpeg"),
        # Parsed whole with the harness's fixed boundary, XyZ.
        "form-png-fixed-boundary": form(b"XyZ", png(tiff(True, 1)), b"a.png", b"image/png"),
    }
    for name, data in seeds.items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(seeds)} seeds to {OUT.name}/")


if __name__ == "__main__":
    main()
