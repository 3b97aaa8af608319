"""The measured runs of the pipeline benchmark: the bare ONNX Runtime ceiling, gridwatch in every-frame mode,
gridwatch at N cameras live, and the Ultralytics anchor (a subprocess in its own venv)."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from edge.settings import GatewaySettings, InferenceSettings
from edge.worker import EdgeWorker
from kernel.camera_config import CameraConfig, parse_camera
from kernel.contracts.messages import CameraStats
from kernel.settings import MqttSettings

ANCHOR_SCRIPT = Path(__file__).with_name("anchor_ultralytics.py")


def decode_all(clip: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def ceiling_fps(model: Path, frames: list[np.ndarray], threads: int) -> tuple[float, float]:
    """A bare ONNX Runtime loop on pre-decoded frames (resize + blob + run, nothing else): frames per
    wall-clock second and per CPU-second of this process."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    height, width = int(inp.shape[2]), int(inp.shape[3])

    def run(frame: np.ndarray) -> None:
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, (width, height), swapRB=True)
        session.run(None, {inp.name: blob})

    for frame in frames[:3]:
        run(frame)
    start, cpu = time.perf_counter(), time.process_time()
    for frame in frames:
        run(frame)
    return len(frames) / (time.perf_counter() - start), len(frames) / (time.process_time() - cpu)


def camera(camera_id: str, url: str, *, realtime: bool, motion: bool, detect_fps: float,
           budget_ms: float) -> CameraConfig:
    return parse_camera({
        "camera_id": camera_id,
        "source": {"url": url, "realtime": realtime, "loop": realtime},
        "motion": {"enabled": motion},
        "detect": {"detect_fps": detect_fps, "budget_ms": budget_ms, "classes": ["person", "car", "bicycle"]},
        "zones": [{"id": "street", "polygon": [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]}],
        "rules": [{"rule_id": "person-in-street", "kind": "intrusion", "zone": "street",
                   "classes": ["person"]}],
    }, f"bench/{camera_id}")


def _settings(model: Path, data_dir: Path, threads: int | None, every_frame: bool) -> GatewaySettings:
    # No broker on port 9: alerts go to the outbox, exactly as during a broker outage.
    # Every-frame runs one camera on one worker with ``threads`` (like the ceiling); live runs use the gateway's
    # own plan (workers and threads from the core and camera counts) unless ``threads`` is forced.
    inference = InferenceSettings(threads=threads, workers=1 if every_frame else None, every_frame=every_frame,
                                  max_batch=1)
    return GatewaySettings(gateway_id="gw-bench", model=model, data_dir=data_dir, metrics_port=0,
                           broker=MqttSettings(port=9), stats_interval_s=3600, inference=inference)


@dataclass
class GatewayRun:
    """What one gridwatch run measured: throughput and, per camera, the CameraStats of the window."""

    fps: float = 0.0
    fps_per_cpu: float = 0.0
    cpu_ms_per_camera_s: float = 0.0
    stats: list[CameraStats] = field(default_factory=list)
    superseded: int = 0
    submitted: int = 0


def gridwatch_every_frame(model: Path, clip: Path, threads: int) -> GatewayRun:
    """The full pipeline on every frame of ``clip`` (no motion gate, no rate limit, readers wait)."""
    cam = camera("every-frame", str(clip), realtime=False, motion=False, detect_fps=60, budget_ms=60_000)
    with tempfile.TemporaryDirectory() as tmp:
        worker = EdgeWorker(_settings(model, Path(tmp), threads, every_frame=True), [cam]).start()
        try:
            start, cpu = time.perf_counter(), time.process_time()
            runtime = worker.runtimes[cam.camera_id]
            runtime.reader.finished.wait(600)
            assert worker.scheduler is not None
            while worker.scheduler.counts(cam.camera_id).detected < runtime.reader.frames_read:
                time.sleep(0.002)
            elapsed, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            counts = worker.scheduler.counts(cam.camera_id)
            return GatewayRun(counts.detected / elapsed, counts.detected / cpu_s,
                              stats=[runtime.pipeline.stats.snapshot()])
        finally:
            worker.stop(flush_timeout_s=0.1)


def gridwatch_live(model: Path, clips: list[Path], threads: int | None, duration_s: float,
                   detect_fps: float, budget_ms: float) -> GatewayRun:
    """N cameras played live (files at native rate, looped), motion gating on; stats over ``duration_s``."""
    cams = [camera(f"cam-{i:02d}", str(c), realtime=True, motion=True, detect_fps=detect_fps,
                   budget_ms=budget_ms) for i, c in enumerate(clips)]
    with tempfile.TemporaryDirectory() as tmp:
        worker = EdgeWorker(_settings(model, Path(tmp), threads, every_frame=False), cams).start()
        try:
            time.sleep(3.0)  # readers open, motion backgrounds settle, tracker warms
            for runtime in worker.runtimes.values():
                runtime.pipeline.stats.snapshot()
            assert worker.scheduler is not None
            before = {cid: worker.scheduler.counts(cid) for cid in worker.runtimes}
            cpu = time.process_time()
            time.sleep(duration_s)
            cpu_s = time.process_time() - cpu
            run = GatewayRun(stats=[r.pipeline.stats.snapshot() for r in worker.runtimes.values()],
                             cpu_ms_per_camera_s=cpu_s * 1000.0 / (duration_s * len(clips)))
            for cid in worker.runtimes:
                after = worker.scheduler.counts(cid)
                run.superseded += after.superseded - before[cid].superseded
                run.submitted += after.submitted - before[cid].submitted
            return run
        finally:
            worker.stop(flush_timeout_s=0.1)


def anchor(python: Path, *args: str, timeout_s: float = 300) -> dict:
    """Run the Ultralytics anchor script with the anchor venv's python; its last stdout line is JSON."""
    done = subprocess.run([str(python), str(ANCHOR_SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"anchor {args[0]} failed (exit {done.returncode}): {' | '.join(tail)}")
    return json.loads(done.stdout.strip().splitlines()[-1])
