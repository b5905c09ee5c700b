#!/usr/bin/env python3
"""The browser test's helper (browser_test.cpp).
  browser_site.py make DIR         writes a small site: a page, its stylesheet, a PNG image, a
                                   20 s WAV for a media element the page seeks, a directory.
  browser_site.py pixel PNG X Y    prints the colour of one pixel of a screenshot as RRGGBB.
Standard library only: the PNG is written and read with zlib."""
import os
import struct
import sys
import zlib


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, width, height, rgb):
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(rows)))
        f.write(png_chunk(b"IEND", b""))


def write_wav(path, seconds, rate=44100):
    period = bytes([168] * 50 + [88] * 50)  # a 441 Hz square wave
    samples = (period * (seconds * rate // len(period) + 1))[:seconds * rate]
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
    header += b"data" + struct.pack("<I", len(samples))
    with open(path, "wb") as f:
        f.write(header + samples)


def make(root):
    for sub in ("img", "media", "docs"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>tiny_httpd</title>
<link rel="stylesheet" href="style.css"></head>
<body><img id="block" src="img/block.png" width="40" height="40" alt="">
<video id="clip" src="media/tone.wav" preload="auto" muted></video>
<script>
const clip = document.getElementById('clip');
clip.addEventListener('loadedmetadata', () => { clip.currentTime = clip.duration * 0.9; });
clip.addEventListener('seeked', () => { fetch('seeked.txt?at=' + Math.round(clip.currentTime)); });
</script></body></html>
""")
    with open(os.path.join(root, "style.css"), "w") as f:
        f.write("body { margin: 0; background: #3366cc; }\n"
                "#block { position: absolute; left: 0; top: 0; }\n")
    write_png(os.path.join(root, "img", "block.png"), 40, 40, (0xcc, 0x22, 0x11))
    # Long enough (26 MB) that the browser does not buffer it whole before the seek.
    write_wav(os.path.join(root, "media", "tone.wav"), 600)
    with open(os.path.join(root, "docs", "notes.txt"), "w") as f:
        f.write("notes\n")


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def pixel(path, x, y):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(idat)
    previous = bytearray(stride)
    for row in range(y + 1):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            line[i] = (line[i] + (0, left, up, (left + up) // 2, paeth(left, up, up_left))[kind]) & 0xFF
        previous = line
    r, g, b = previous[x * channels:x * channels + 3]
    print(f"{r:02x}{g:02x}{b:02x}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        pixel(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
