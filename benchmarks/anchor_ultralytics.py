"""The anchor for `gridwatch bench`: what a user would write with Ultralytics, run in its own venv.

Not imported by gridwatch (ultralytics lives only in the optional benchmark environment); the bench runs
it as ``<anchor-python> benchmarks/anchor_ultralytics.py MODE ...`` and reads one JSON line from stdout.

  every-frame MODEL CLIP REPEATS        YOLO(model).track(clip, stream=True) over every frame
  capacity MODEL CLIPS DURATION_S FPS DETECT_FPS
                                        one thread per camera, each its own YOLO(model).track on the
                                        newest frame of a file played live at FPS, at most DETECT_FPS
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import cv2
import numpy as np


def every_frame(model_path: str, clip: str, repeats: int) -> dict:
    from ultralytics import YOLO

    runs, cpu_runs = [], []
    frames = 0
    for _ in range(repeats):
        model = YOLO(model_path, task="detect")
        model.predict(np.full((320, 320, 3), 114, np.uint8), imgsz=320, verbose=False)  # load + warm up
        start, cpu = time.perf_counter(), time.process_time()
        frames = sum(1 for _ in model.track(clip, stream=True, imgsz=320, verbose=False))
        runs.append(frames / (time.perf_counter() - start))
        cpu_runs.append(frames / (time.process_time() - cpu))
    return {"fps_runs": runs, "fps_per_cpu_runs": cpu_runs, "frames": frames}


class LiveFile:
    """A file played at ``fps`` on its own thread, keeping only the newest frame (like a live camera)."""

    def __init__(self, path: str, fps: float) -> None:
        self.path, self.interval = path, 1.0 / fps
        self.latest: tuple[float, np.ndarray] | None = None
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        due = time.monotonic()
        while not self.stop.is_set():
            cap = cv2.VideoCapture(self.path)
            while not self.stop.is_set():
                ok, frame = cap.read()
                if not ok:
                    break
                due += self.interval
                self.stop.wait(max(0.0, due - time.monotonic()))
                self.latest = (time.monotonic(), frame)
            cap.release()


def camera_loop(model_path: str, source: LiveFile, detect_fps: float, until: float, ages: list[float],
                counts: dict[str, int], lock: threading.Lock) -> None:
    from ultralytics import YOLO

    model = YOLO(model_path, task="detect")
    model.predict(np.full((320, 320, 3), 114, np.uint8), imgsz=320, verbose=False)
    next_slot = time.monotonic()
    last_ts = None
    while time.monotonic() < until:
        time.sleep(max(0.0, next_slot - time.monotonic()))
        next_slot = max(next_slot + 1.0 / detect_fps, time.monotonic())
        latest = source.latest
        if latest is None or latest[0] == last_ts:
            continue
        last_ts = latest[0]
        model.track(latest[1], persist=True, imgsz=320, verbose=False)
        with lock:
            ages.append((time.monotonic() - latest[0]) * 1000.0)
            counts["detected"] += 1


def capacity(model_path: str, clips: list[str], duration_s: float, fps: float, detect_fps: float) -> dict:
    sources = [LiveFile(c, fps) for c in clips]
    ages: list[float] = []
    counts = {"detected": 0}
    lock = threading.Lock()
    warmup_s = 3.0 + 0.5 * len(clips)
    until = time.monotonic() + warmup_s + duration_s
    threads = [threading.Thread(target=camera_loop, daemon=True,
                                args=(model_path, s, detect_fps, until, ages, counts, lock)) for s in sources]
    for t in threads:
        t.start()
    time.sleep(warmup_s)
    with lock:
        ages.clear()
        counts["detected"] = 0
    cpu = time.process_time()
    for t in threads:
        t.join(duration_s + 30)
    cpu_s = time.process_time() - cpu
    for s in sources:
        s.stop.set()
    p95 = float(np.percentile(ages, 95)) if ages else float("inf")
    p50 = float(np.percentile(ages, 50)) if ages else float("inf")
    return {"cameras": len(clips), "age_p50_ms": p50, "age_p95_ms": p95,
            "detect_fps_per_camera": counts["detected"] / duration_s / len(clips),
            "cpu_ms_per_camera_s": cpu_s * 1000.0 / (duration_s * len(clips))}


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "every-frame":
        result = every_frame(argv[1], argv[2], int(argv[3]))
    elif mode == "capacity":
        result = capacity(argv[1], argv[2].split(","), float(argv[3]), float(argv[4]), float(argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode!r}: expected every-frame or capacity")
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    # Reader and tracker threads may still sit inside OpenCV/ONNX Runtime: a normal interpreter exit
    # would abort in their C++ destructors, so leave at once (the result is already written).
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
