"""Evidence files on disk: content-addressed (sha256) names, images checked to be exactly one real image (a
known format, nothing appended, pixels that decode), no path tricks."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from central.errors import Invalid

# Magic numbers: we trust the bytes, never the file name or the declared content type.
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"WEBP", 8, "image/webp", "webp"),
)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,120}$")


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    relpath: str
    content_type: str
    size_bytes: int


def sniff_image(data: bytes) -> tuple[str, str]:
    """(content type, extension) of a JPEG, PNG or WebP; raise Invalid (415) unless the bytes are exactly one
    image: known magic, a container that ends where the file ends (no trailing bytes: a polyglot, such as a
    JPEG with an archive or page appended, is refused), and pixels that really decode."""
    content_type, ext = _by_magic(data)
    end = _CONTAINER_END[ext](data)
    if end is None or end > len(data):
        raise Invalid(f"file is not a valid {ext.upper()} image: its structure is broken", status_code=415)
    if end != len(data):
        raise Invalid(
            f"file is not a clean {ext.upper()} image: {len(data) - end} bytes follow the end of the image "
            "(trailing data or a polyglot file)",
            status_code=415,
        )
    if not _decodes(data):
        raise Invalid(f"file is not a valid {ext.upper()} image: it does not decode", status_code=415)
    return content_type, ext


def _decodes(data: bytes) -> bool:
    """Whether the pixels really decode (Pillow: the hub needs no OpenCV; oversized images count as not)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.width > 0 and image.height > 0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _by_magic(data: bytes) -> tuple[str, str]:
    for magic, offset, content_type, ext in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (ext != "webp" or data[:4] == b"RIFF"):
            return content_type, ext
    raise Invalid(
        f"file is not an image: its first bytes {data[:8].hex()} are not JPEG, PNG or WebP", status_code=415
    )


def _jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI marker that ends the image, walking segments and scan data; None if broken."""
    at = 2  # after SOI
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:  # EOI
            return at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            return None
        at += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next marker other than RSTn
            while True:
                at = data.find(b"\xff", at)
                if at == -1 or at + 1 >= len(data):
                    return None
                following = data[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1 if following == 0xFF else 2
                    continue
                break
    return None


def _png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, every chunk's CRC checked; None if broken."""
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        body_end = at + 8 + length
        if body_end + 4 > len(data):
            return None
        if zlib.crc32(data[at + 4 : body_end]) != int.from_bytes(data[body_end : body_end + 4], "big"):
            return None
        at = body_end + 4
        if kind == b"IEND":
            return at
    return None


def _webp_end(data: bytes) -> int | None:
    """Offset the RIFF header says the file ends at (chunks are padded to even sizes)."""
    if len(data) < 12:
        return None
    size = int.from_bytes(data[4:8], "little")
    return 8 + size + (size & 1)


_CONTAINER_END: dict[str, Callable[[bytes], int | None]] = {"jpg": _jpeg_end, "png": _png_end, "webp": _webp_end}


def check_file_name(name: str | None) -> str | None:
    """Accept a plain file name for display; refuse paths, traversal and control characters."""
    if name is None or name == "":
        return None
    if "/" in name or "\\" in name or ".." in name or "\x00" in name or not _SAFE_NAME.match(name):
        raise Invalid(
            f"file name {name!r} is not allowed: expected a plain name (letters, digits, ' _.()-', "
            "no folders, no '..')",
            status_code=400,
        )
    return name


class EvidenceStore:
    """Writes files as ``<root>/<aa>/<sha256>.<ext>`` atomically; identical content is stored once."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)

    def check_image(self, data: bytes) -> tuple[str, str]:
        """(content type, extension) of an image this store takes; raise Invalid (413 too large, 415 not an
        image) otherwise."""
        if len(data) > self.max_bytes:
            raise Invalid(
                f"image of {len(data)} bytes exceeds the {self.max_bytes} byte limit", status_code=413
            )
        return sniff_image(data)

    def put_image(self, data: bytes) -> StoredFile:
        content_type, ext = self.check_image(data)
        sha = hashlib.sha256(data).hexdigest()
        relpath = f"{sha[:2]}/{sha}.{ext}"
        path = self.root / relpath
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return StoredFile(sha256=sha, relpath=relpath, content_type=content_type, size_bytes=len(data))

    def path_of(self, relpath: str) -> Path:
        path = (self.root / relpath).resolve()
        if self.root.resolve() not in path.parents:
            raise Invalid(f"evidence path {relpath!r} escapes the evidence folder", status_code=400)
        return path
