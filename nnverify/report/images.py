"""Small grey images with no imaging library: a PDF inline image for pdflatex, a PNG for the web.

A report that shows the digits it checked must carry their pictures. Both encodings are
written here from the pixel bytes alone:

- **PDF** (:func:`pdf_inline_image`): an inline image (``BI ... ID ... EI``) that
  ``\\pdfliteral`` puts in the page, so the ``.tex`` stays one self-contained file. The data is
  run-length encoded (PDF's ``RunLengthDecode``, written by :func:`run_length`) and then
  written as hexadecimal digits (``ASCIIHexDecode``): TeX reads nothing but ``0-9A-F``, and the
  encoding is ours, so the same pixels give the same bytes on every machine.
- **PNG** (:func:`png_gray`): an 8-bit greyscale PNG (zlib), shown in the HTML page as a
  ``data:`` URI (:func:`data_uri`), which the page's Content-Security-Policy allows.

Pixels are ``uint8`` (0 black, 255 white) of shape ``(height, width)``, first row on top.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

__all__ = ["grey_pixels", "run_length", "run_length_decode", "pdf_inline_image", "png_gray", "data_uri"]

#: Longest run (and longest literal stretch) one RunLength record holds.
_MAX_RUN = 128
#: The RunLength end-of-data marker.
_EOD = 128


def grey_pixels(values: np.ndarray, shape: tuple[int, int], low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """One input row as an image: ``low`` white, ``high`` black (ink on paper), ``uint8``.

    Args:
        values: the input's values, ``height * width`` of them in row-major order.
        shape: ``(height, width)``.
        low: the value drawn white (MNIST: 0, the background).
        high: the value drawn black (MNIST: 1, full ink); values beyond are clipped.

    With ``low = 0, high = 1`` an MNIST input ``p / 255`` (in float32) is drawn with exactly the
    grey ``255 - p`` of its original pixel byte ``p``.
    """
    v = np.asarray(values, dtype=np.float64).reshape(shape)
    ink = np.clip((v - low) / (high - low), 0.0, 1.0)
    return (255 - np.rint(ink * 255)).astype(np.uint8)


def run_length(data: bytes) -> bytes:
    """``data`` in PDF's RunLength encoding (ISO 32000-1, 7.4.5), ending with the EOD marker.

    A record is a length byte ``n`` then data: ``n < 128`` copies the next ``n + 1`` bytes,
    ``n > 128`` repeats the next byte ``257 - n`` times. Runs of two or more become repeats.
    """
    out = bytearray()
    literal = bytearray()

    def flush() -> None:
        for start in range(0, len(literal), _MAX_RUN):
            chunk = literal[start:start + _MAX_RUN]
            out.append(len(chunk) - 1)
            out.extend(chunk)
        literal.clear()

    i, n = 0, len(data)
    while i < n:
        j = i + 1
        while j < n and data[j] == data[i] and j - i < _MAX_RUN:
            j += 1
        if j - i >= 2:
            flush()
            out += bytes((257 - (j - i), data[i]))
        else:
            literal.append(data[i])
        i = j
    flush()
    out.append(_EOD)
    return bytes(out)


def run_length_decode(data: bytes) -> bytes:
    """The inverse of :func:`run_length` (what a PDF reader does; used by the tests)."""
    out = bytearray()
    i = 0
    while i < len(data) and data[i] != _EOD:
        n = data[i]
        if n < _EOD:
            out += data[i + 1:i + 2 + n]
            i += 2 + n
        else:
            out += bytes([data[i + 1]]) * (257 - n)
            i += 2
    return bytes(out)


def pdf_inline_image(pixels: np.ndarray, *, line: int = 96) -> str:
    """The operators ``BI ... ID <hex> EI`` drawing ``pixels`` on the unit square (pdfTeX literal).

    Args:
        pixels: ``uint8`` ``(height, width)``, first row on top.
        line: hexadecimal digits per line of the ``.tex`` (TeX reads a line end as a space,
            which ``ASCIIHexDecode`` skips).
    """
    h, w = pixels.shape
    hexed = run_length(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()).hex().upper() + ">"
    lines = "\n".join(hexed[k:k + line] for k in range(0, len(hexed), line))
    return f"BI /W {w} /H {h} /CS /G /BPC 8 /F [/AHx /RL] ID\n{lines} EI"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_gray(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of ``pixels`` (``uint8`` ``(height, width)``, first row on top)."""
    px = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = px.shape
    raw = b"".join(b"\x00" + px[r].tobytes() for r in range(h))  # filter 0 (none) on every row
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8 bits, greyscale, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an ``<image href>`` (allowed by the report's CSP)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
