"""How long a healthy camera takes to start and to reconnect while another camera hangs, and how long a
shutdown takes: the numbers behind the choice documented in edge/capture.py.

    .venv/bin/python benchmarks/bench_capture_faults.py [--hung N] [--no-hung]

A hung camera is a loopback server that accepts and never answers (tests/edge/stream_servers.py); the
healthy one an MJPEG-over-HTTP server at 10 fps that drops the stream every 30 frames. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.capture import CaptureReader, SourceSpec  # noqa: E402
from edge.types import Frame  # noqa: E402
from tests.edge.stream_servers import HungServer, MjpegServer  # noqa: E402


def _spec(url: str, **extra: object) -> SourceSpec:
    names = {f.name for f in dataclasses.fields(SourceSpec)}
    return SourceSpec(url, reconnect_min_s=0.5, reconnect_max_s=1.0,
                      **{k: v for k, v in extra.items() if k in names})  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hung", type=int, default=1, help="hung cameras started before the healthy one")
    parser.add_argument("--open-timeout-s", type=float, default=5.0)
    args = parser.parse_args()
    hung_server = HungServer()
    healthy_server = MjpegServer(fps=10, frames=50, frames_per_connection=30)
    hung_readers = [CaptureReader(f"hung-{i}", _spec(hung_server.url("rtsp"), open_timeout_s=args.open_timeout_s))
                    for i in range(args.hung)]
    arrivals: list[float] = []
    first = threading.Event()
    reconnected = threading.Event()

    def on_frame(frame: Frame) -> None:
        arrivals.append(time.monotonic())
        first.set()
        if len(arrivals) > 31:
            reconnected.set()

    for reader in hung_readers:
        reader.start()
    if hung_readers:  # let the hung opens begin first, as a gateway that starts its cameras in order
        deadline = time.monotonic() + 5
        while hung_server.accepted < len(hung_readers) and time.monotonic() < deadline:
            time.sleep(0.01)
    healthy = CaptureReader("healthy", _spec(healthy_server.url(), open_timeout_s=args.open_timeout_s),
                            on_frame=on_frame)
    started = time.monotonic()
    healthy.start()
    first.wait(120)
    start_s = arrivals[0] - started if arrivals else None
    reconnected.wait(180)
    # the stream drops after frame 30; the gap to the next frame is the reconnect (0.5 s backoff included)
    reconnect_s = arrivals[30] - arrivals[29] if len(arrivals) > 30 else None
    stop_start = time.monotonic()
    for reader in [healthy, *hung_readers]:
        reader.stop()
    shutdown_s = time.monotonic() - stop_start
    hung_server.close()
    healthy_server.close()
    print(json.dumps({"hung_cameras": args.hung, "healthy_start_s": start_s, "healthy_reconnect_s": reconnect_s,
                      "shutdown_s": round(shutdown_s, 3), "hung_open_attempts": hung_server.accepted}))


if __name__ == "__main__":
    main()
