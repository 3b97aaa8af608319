"""Camera stand-ins on loopback for capture tests and benchmarks: a server that accepts and never answers,
an MJPEG-over-HTTP camera that can stall and resume, and an RTSP server that refuses every password.

Every server listens on 127.0.0.1 on a free port, runs on daemon threads and stops with ``close()``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import suppress

import cv2
import numpy as np

_BOUNDARY = b"gridwatchframe"


class _Listener:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self.closed = threading.Event()
        self.connections: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self.connections.append(conn)
            threading.Thread(target=self._serve_safely, args=(conn,), daemon=True).start()

    def _serve_safely(self, conn: socket.socket) -> None:
        with suppress(OSError):
            self.serve(conn)

    def serve(self, conn: socket.socket) -> None:
        """Handle one connection (the default: hold it open and say nothing until closed)."""
        self.closed.wait()

    def close(self) -> None:
        self.closed.set()
        self._sock.close()
        for conn in self.connections:
            with suppress(OSError):
                conn.close()


class HungServer(_Listener):
    """Accepts every connection and never sends a byte: a camera that hangs during the open."""

    def url(self, scheme: str = "rtsp") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/hung"


def numbered_jpeg(number: int, size: tuple[int, int] = (160, 120)) -> bytes:
    """A flat JPEG whose colour encodes ``number`` (0-2499): blue ``number % 50``, green ``number // 50``."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[:, :, 0] = 5 * (number % 50)
    image[:, :, 1] = 5 * (number // 50 % 50)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def frame_number(image_bgr: np.ndarray) -> int:
    """The number a ``numbered_jpeg`` frame carries."""
    blue, green = (round(float(image_bgr[:, :, c].mean()) / 5) for c in (0, 1))
    return green * 50 + blue


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise OSError("client went away")
        data += chunk
    return data


class MjpegServer(_Listener):
    """An MJPEG-over-HTTP camera at ``fps`` sending numbered frames 0, 1, 2... per connection.

    ``frames_per_connection``: close the connection after that many frames (a camera that drops the
    stream). ``stall_after``/``stall_s``: after that many frames stop sending for ``stall_s`` with the
    connection open, then send the frames due meanwhile in one burst (what a camera's buffer does) and go on.
    ``hold_open``: after the last frame keep the connection open and silent instead of closing it.
    """

    def __init__(self, fps: float = 10.0, *, frames: int = 50, frames_per_connection: int | None = None,
                 stall_after: int | None = None, stall_s: float = 0.0, hold_open: bool = False) -> None:
        self.fps = fps
        self.hold_open = hold_open
        self.frames = frames
        self.frames_per_connection = frames_per_connection
        self.stall_after = stall_after
        self.stall_s = stall_s
        self.stalled = threading.Event()
        self.resumed = threading.Event()
        self._jpegs = [numbered_jpeg(i) for i in range(frames)]
        super().__init__()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def _schedule(self) -> Iterator[tuple[int, float]]:
        """(frame number, seconds to wait before sending it)."""
        interval = 1.0 / self.fps
        count = min(self.frames, self.frames_per_connection or self.frames)
        for number in range(count):
            if self.stall_after is not None and number == self.stall_after:
                yield number, self.stall_s
            elif self.stall_after is not None and self.stall_after < number < self.stall_after + \
                    round(self.stall_s * self.fps):
                yield number, 0.0  # the backlog, sent in one burst on resume
            else:
                yield number, interval

    def serve(self, conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary="
                     + _BOUNDARY + b"\r\nCache-Control: no-cache\r\n\r\n")
        for number, wait_s in self._schedule():
            if number == self.stall_after:
                self.stalled.set()
            if self.closed.wait(wait_s):
                return
            if number == self.stall_after:
                self.resumed.set()
            jpeg = self._jpegs[number]
            conn.sendall(b"--" + _BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                         + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
        if self.hold_open:
            self.closed.wait()
        conn.close()


class RtspUnauthorizedServer(_Listener):
    """An RTSP server that answers OPTIONS and refuses every DESCRIBE with 401 Unauthorized (a wrong
    password); it records the requests it got."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__()

    def url(self, user: str = "admin", password: str = "wrong-secret") -> str:
        return f"rtsp://{user}:{password}@127.0.0.1:{self.port}/stream1"

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        while not self.closed.is_set():
            request = _read_request(conn).decode("latin-1")
            self.requests.append(request)
            method = request.split(" ", 1)[0]
            cseq = next((line.split(":", 1)[1].strip() for line in request.split("\r\n")
                         if line.lower().startswith("cseq:")), "1")
            if method == "OPTIONS":
                reply = f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY\r\n\r\n"
            else:
                reply = (f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"
                         'WWW-Authenticate: Digest realm="gridwatch-test", nonce="0123456789abcdef"\r\n'
                         'WWW-Authenticate: Basic realm="gridwatch-test"\r\n\r\n')
            conn.sendall(reply.encode())
