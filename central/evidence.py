"""Evidence files on disk: content-addressed (sha256) names, image sniffing, no path tricks."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

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
    """(content type, extension) of a JPEG, PNG or WebP by its first bytes; raise Invalid otherwise."""
    for magic, offset, content_type, ext in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic and (ext != "webp" or data[:4] == b"RIFF"):
            return content_type, ext
    raise Invalid(
        f"file is not an image: its first bytes {data[:8].hex()} are not JPEG, PNG or WebP", status_code=415
    )


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
