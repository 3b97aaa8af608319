"""Opening a camera source: what describes it (SourceSpec), URL redaction, a protocol pre-flight that no
global lock can block, and the OpenCV/FFmpeg open with timeouts the FFmpeg backend honours.

Why a pre-flight: OpenCV's FFmpeg backend opens every capture under one process-wide mutex, so a camera
that accepts the connection and never answers held that mutex for the whole open timeout (30 s by default)
and every other camera's start and reconnect waited behind it. The pre-flight asks the server for a first
answer on a plain socket (RTSP: DESCRIBE; HTTP: GET, read up to the status line) on the reader's own
thread, with ``open_timeout_s`` and checking for a stop every 0.1 s; only a server that answered is opened
with OpenCV, and that open is bounded by CAP_PROP_OPEN_TIMEOUT_MSEC. The pre-flight also names a refused
password: when OpenCV's open fails after a 401 to a DESCRIBE that carried the URL's credentials, the
camera is reported as "authentication failed" (FFmpeg's own 401 message only reaches stderr).
Credentials never appear in a message.
"""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

import cv2

from edge.errors import SourceError

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_QUERY = re.compile(r"(?i)((?:password|passwd|pwd|token|key|secret|auth)=)[^&\s]*")
_SLICE_S = 0.1  # socket waits are cut into slices this long so a stop is noticed promptly


class SourceSection(Protocol):
    """The camera config's ``source`` section, as far as capture needs it."""

    @property
    def url(self) -> str: ...
    @property
    def realtime(self) -> bool: ...
    @property
    def loop(self) -> bool: ...
    @property
    def fps_limit(self) -> float | None: ...
    @property
    def reconnect_min_s(self) -> float: ...
    @property
    def reconnect_max_s(self) -> float: ...
    @property
    def open_timeout_s(self) -> float: ...
    @property
    def stall_timeout_s(self) -> float: ...
    @property
    def max_frame_age_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What a reader needs to know about one source (built from a camera's ``source`` section)."""

    url: str
    realtime: bool = True
    loop: bool = False
    fps_limit: float | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    open_timeout_s: float = 10.0
    stall_timeout_s: float = 10.0
    max_frame_age_s: float = 1.0

    @classmethod
    def from_section(cls, section: SourceSection) -> SourceSpec:
        return cls(str(section.url), bool(section.realtime), bool(section.loop), section.fps_limit,
                   float(section.reconnect_min_s), float(section.reconnect_max_s),
                   float(section.open_timeout_s), float(section.stall_timeout_s), float(section.max_frame_age_s))

    @property
    def device_index(self) -> int | None:
        """The local device number for ``device:N`` (or a bare ``N``), else None."""
        tail = self.url.removeprefix("device:")
        return int(tail) if tail.isdigit() else None

    @property
    def is_file(self) -> bool:
        return "://" not in self.url and self.device_index is None


class SourceAuthError(SourceError):
    """The camera refused the credentials of its URL (or wants some and the URL has none)."""


def redact_url(url: str) -> str:
    """``url`` with credentials (``user:pass@`` and secret query values) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        url = urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
    else:
        url = _USERINFO.sub("***@", url)
    return _SECRET_QUERY.sub(r"\1***", url)


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str
    port: int
    request_uri: str  # the URL without credentials, as sent in the request line
    user: str | None
    password: str | None


def _target(url: str) -> _Target | None:
    parts = urlsplit(url)
    default_port = {"rtsp": 554, "http": 80}.get(parts.scheme.lower())
    if default_port is None or not parts.hostname:
        return None
    host = parts.hostname
    port = parts.port or default_port
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if parts.scheme.lower() == "rtsp":
        uri = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
    else:
        uri = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return _Target(parts.scheme.lower(), host, port, uri, user, password)


class _Deadline:
    def __init__(self, timeout_s: float, stop: threading.Event | None) -> None:
        self.end = time.monotonic() + timeout_s
        self.stop = stop

    def left(self) -> float:
        if self.stop is not None and self.stop.is_set():
            raise _Stopped
        return self.end - time.monotonic()


class _Stopped(Exception):
    pass


def _read_head(sock: socket.socket, deadline: _Deadline) -> str:
    """The response head (status line and headers) or "" when the deadline passed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline.left()
        if left <= 0:
            return ""
        sock.settimeout(min(_SLICE_S, left))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            break
        data += chunk
        if len(data) > 65536:
            break
    return data.decode("latin-1")


def _status(head: str) -> int:
    match = re.match(r"(?:RTSP|HTTP)/\d(?:\.\d)?\s+(\d{3})", head)
    return int(match.group(1)) if match else 0


def _authorization(head: str, target: _Target, method: str) -> str:
    """The Authorization header value answering the challenge in ``head`` (Digest if offered, else Basic)."""
    user, password = target.user or "", target.password or ""
    challenges = re.findall(r"(?im)^WWW-Authenticate:\s*(.+?)\s*$", head)
    digest = next((c for c in challenges if c.lower().startswith("digest")), None)
    if digest is None:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', digest[len("digest"):]))
    realm, nonce = fields.get("realm", ""), fields.get("nonce", "")
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - RFC 2617 digest
    ha2 = hashlib.md5(f"{method}:{target.request_uri}".encode()).hexdigest()  # noqa: S324
    extra = ""
    if "auth" in fields.get("qop", "").split(","):
        cnonce = hashlib.md5(str(time.time()).encode()).hexdigest()[:16]  # noqa: S324
        response = hashlib.md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()  # noqa: S324
        extra = f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()  # noqa: S324
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{target.request_uri}",'
            f' response="{response}"{extra}')


def _request(target: _Target, cseq: int, authorization: str | None) -> bytes:
    if target.scheme == "rtsp":
        lines = [f"DESCRIBE {target.request_uri} RTSP/1.0", f"CSeq: {cseq}", "Accept: application/sdp",
                 "User-Agent: gridwatch-edge"]
    else:
        lines = [f"GET {target.request_uri} HTTP/1.1", f"Host: {target.host}:{target.port}",
                 "User-Agent: gridwatch-edge", "Connection: close"]
    if authorization:
        lines.append(f"Authorization: {authorization}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def preflight(url: str, camera_id: str, timeout_s: float,
              stop: threading.Event | None = None) -> SourceAuthError | None:
    """Check that an rtsp:// or http:// server answers at all, within ``timeout_s``, without OpenCV.

    Raises SourceError when it does not (no connection, no answer). A 401 is returned, not raised, as the
    diagnosis to report if OpenCV's open fails too (so a camera whose challenge this check answers wrongly
    is still opened); any other answer passes (OpenCV then reports what is wrong). Other sources are not
    checked here. Returns early, without error, when ``stop`` is set.
    """
    target = _target(url)
    if target is None:
        return None
    safe = redact_url(url)
    deadline = _Deadline(timeout_s, stop)
    try:
        with socket.create_connection((target.host, target.port), timeout=max(0.01, deadline.left())) as sock:
            sock.sendall(_request(target, 1, None))
            head = _read_head(sock, deadline)
            if _status(head) == 401 and target.user is not None and target.scheme == "rtsp":
                sock.sendall(_request(target, 2, _authorization(head, target, "DESCRIBE")))
                head = _read_head(sock, deadline)
    except _Stopped:
        return None
    except OSError as exc:
        raise SourceError(f"camera {camera_id}: cannot connect to {safe}: {exc.strerror or exc}") from None
    status = _status(head)
    if not head:
        raise SourceError(f"camera {camera_id}: {safe} accepted the connection but sent no answer within"
                          f" {timeout_s:g} s (open_timeout_s): expected a camera that answers")
    if status != 401:
        return None
    if target.user is None:
        return SourceAuthError(f"camera {camera_id}: authentication required by {safe} (401 Unauthorized):"
                               " expected a user name and password in the URL")
    if target.scheme == "http":
        return None  # HTTP: leave Basic/Digest to FFmpeg, which answers the challenge itself
    return SourceAuthError(f"camera {camera_id}: authentication failed for {safe} (401 Unauthorized):"
                           " check the user name and password")


def open_capture(target: str | int, camera_id: str, safe_url: str, open_timeout_s: float,
                 read_timeout_s: float) -> cv2.VideoCapture:
    """An opened OpenCV capture; a device index opens with any backend, everything else with FFmpeg and
    its open/read timeouts."""
    if isinstance(target, int):
        cap = cv2.VideoCapture(target, cv2.CAP_ANY)
    else:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout_s * 1000)]
        cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise SourceError(
            f"camera {camera_id}: cannot open {safe_url}: expected a readable video stream, "
            "file or device (corrupt file, wrong URL or credentials?)"
        )
    return cap
