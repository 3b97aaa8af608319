"""Time the detector's stages against a bare ONNX Runtime loop on the same frames (not run in CI).

    .venv/bin/python benchmarks/bench_detector.py [--model FILE ...] [--threads 2] [--runs 50]

Defaults to every model in ../shared/models and frames from ../shared/media. Prints one row per model:
median preprocess / inference / postprocess ms, total, the bare session.run median, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from edge.detector import Detector
from edge.letterbox import preprocess

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def load_frames(media: Path, count: int = 20) -> list[np.ndarray]:
    """bus.jpg, zidane.jpg and the first ``count`` frames of the pedestrian clip, decoded up front."""
    frames = [cv2.imread(str(media / name)) for name in ("bus.jpg", "zidane.jpg")]
    capture = cv2.VideoCapture(str(media / "pedestrians-768x576-10fps-150f.mp4"))
    for _ in range(count):
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return [f for f in frames if f is not None]


def bench_model(model: Path, frames: list[np.ndarray], *, threads: int, runs: int) -> dict[str, float]:
    """Median stage times of Detector.detect and of a bare session.run on pre-made blobs, in ms."""
    detector = Detector(model, threads=threads)
    detector.warmup()
    pre, inf, post, total = [], [], [], []
    for i in range(runs):
        _, times = detector.detect(frames[i % len(frames)])
        pre.append(times.preprocess_ms)
        inf.append(times.inference_ms)
        post.append(times.postprocess_ms)
        total.append(times.total_ms)
    session, spec = detector._session, detector.spec  # the ceiling: the same session, nothing around it
    blobs = [preprocess(f, spec.input_hw)[0] for f in frames]
    bare = []
    for i in range(runs):
        t0 = time.perf_counter()
        session.run([spec.output_name], {spec.input_name: blobs[i % len(blobs)]})
        bare.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median
    return {"preprocess_ms": med(pre), "inference_ms": med(inf), "postprocess_ms": med(post),
            "total_ms": med(total), "bare_run_ms": med(bare), "ratio": med(bare) / med(total)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="model file (repeatable)")
    parser.add_argument("--media", type=Path, default=SHARED / "media")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    models = args.model or sorted((SHARED / "models").glob("*.onnx"))
    frames = load_frames(args.media)
    print(f"{'model':<40} {'pre':>6} {'infer':>7} {'post':>6} {'total':>7} {'bare':>7} {'bare/total':>10}")
    for model in models:
        r = bench_model(model, frames, threads=args.threads, runs=args.runs)
        print(f"{model.name:<40} {r['preprocess_ms']:6.2f} {r['inference_ms']:7.2f} "
              f"{r['postprocess_ms']:6.2f} {r['total_ms']:7.2f} {r['bare_run_ms']:7.2f} {r['ratio']:10.2f}")


if __name__ == "__main__":
    main()
