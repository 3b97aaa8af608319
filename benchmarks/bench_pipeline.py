"""`gridwatch bench` pipeline benchmark: ceiling vs Ultralytics anchor vs gridwatch, every-frame throughput
and camera capacity under the latency budget, written to docs/benchmarks/pipeline.md and pipeline.png."""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from benchmarks import pipeline_report
from benchmarks import pipeline_scenarios as sc
from edge.sample_clip import ClipSpec, write_clip
from kernel.contracts.messages import CameraStats


@dataclass(frozen=True)
class BenchOptions:
    model: Path
    clip: Path | None
    anchor_python: Path | None
    out_dir: Path
    repeats: int = 3
    threads: int = 2
    capacity_steps: tuple[int, ...] = (1, 2, 4, 6, 8, 12, 16, 24)
    anchor_steps: tuple[int, ...] = (1, 2, 4, 8)
    duration_s: float = 10.0
    source_fps: float = 10.0
    detect_fps: float = 5.0
    budget_ms: float = 250.0
    command: str = "gridwatch bench"


@dataclass
class CapacityPoint:
    cameras: int
    age_p95_ms: float
    budget_skip_share: float
    motion_skip_share: float
    min_capture_fps: float
    detect_fps_per_moving_camera: float
    sustained: bool
    cpu_ms_per_camera_s: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)


@dataclass
class BenchResult:
    options: BenchOptions
    ceiling_fps: list[float] = field(default_factory=list)
    gridwatch_fps: list[float] = field(default_factory=list)
    anchor_fps: list[float] = field(default_factory=list)
    ceiling_cpu: list[float] = field(default_factory=list)  # frames per CPU-second
    gridwatch_cpu: list[float] = field(default_factory=list)
    anchor_cpu: list[float] = field(default_factory=list)
    anchor_note: str = ""
    every_frame_stages: dict[str, float] = field(default_factory=dict)
    capacity: list[CapacityPoint] = field(default_factory=list)
    anchor_capacity: list[dict] = field(default_factory=list)
    machine: str = ""

    @staticmethod
    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")


def _stage_p50(stats: list[CameraStats]) -> dict[str, float]:
    stages: dict[str, list[float]] = {}
    for s in stats:
        for name, pct in s.stage_latency_ms.items():
            stages.setdefault(name, []).append(pct.p50)
    return {name: statistics.median(v) for name, v in stages.items()}


def capacity_point(n: int, run: sc.GatewayRun, opts: BenchOptions) -> CapacityPoint:
    stats = run.stats
    detected = sum(round(s.detect_fps * s.window_s) for s in stats)
    skipped_budget = sum(s.frames_skipped_budget for s in stats)
    captured = sum(s.frames_captured for s in stats) or 1
    ages = [s.frame_age_ms.p95 for s in stats if s.frame_age_ms is not None]
    age_p95 = max(ages) if ages else float("inf")
    budget_share = skipped_budget / max(1, detected + skipped_budget)
    min_capture = min(s.capture_fps for s in stats)
    # cameras 0, 2, 4, ... play the moving clip: they must get their full detect rate (the anchor, which
    # has no motion gate, must reach it on every camera)
    moving = [s.detect_fps for i, s in enumerate(stats) if i % 2 == 0]
    moving_fps = statistics.mean(moving) if moving else 0.0
    sustained = (age_p95 <= opts.budget_ms and budget_share <= 0.10
                 and min_capture >= 0.9 * opts.source_fps and moving_fps >= 0.9 * opts.detect_fps)
    return CapacityPoint(n, age_p95, budget_share, sum(s.frames_skipped_motion for s in stats) / captured,
                         min_capture, moving_fps, sustained, run.cpu_ms_per_camera_s, _stage_p50(stats))


def run(opts: BenchOptions) -> BenchResult:
    result = BenchResult(opts, machine=pipeline_report.machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        moving = opts.clip or write_clip(Path(tmp) / "moving.mp4",
                                         ClipSpec(768, 576, opts.source_fps, 150, walkers=3))
        static = write_clip(Path(tmp) / "static.mp4", ClipSpec(768, 576, opts.source_fps, 50, walkers=0))
        frames = sc.decode_all(moving)
        anchor_steps = (1 + len(opts.anchor_steps)) * bool(opts.anchor_python)
        steps = 2 * opts.repeats + len(opts.capacity_steps) + anchor_steps
        with tqdm(total=steps, desc="bench pipeline", unit="run") as bar:
            for _ in range(opts.repeats):  # interleaved, so drifting machine load hits both alike
                bar.set_postfix_str("ceiling")
                fps, per_cpu = sc.ceiling_fps(opts.model, frames, opts.threads)
                result.ceiling_fps.append(fps)
                result.ceiling_cpu.append(per_cpu)
                bar.update()
                bar.set_postfix_str("gridwatch every-frame")
                every = sc.gridwatch_every_frame(opts.model, moving, opts.threads)
                result.gridwatch_fps.append(every.fps)
                result.gridwatch_cpu.append(every.fps_per_cpu)
                result.every_frame_stages = _stage_p50(every.stats)
                bar.update()
            _anchor_every_frame(opts, moving, result, bar)
            # gridwatch and anchor alternate step by step, so both see the same machine load
            anchor_on = bool(opts.anchor_python and opts.anchor_python.is_file() and not result.anchor_note)
            for n in sorted(set(opts.capacity_steps) | set(opts.anchor_steps)):
                failed = any(not p.sustained for p in result.capacity)
                if n in opts.capacity_steps and (not failed or len(result.capacity) < 2):
                    bar.set_postfix_str(f"gridwatch {n} cameras")
                    clips = [moving if i % 2 == 0 else static for i in range(n)]
                    live = sc.gridwatch_live(opts.model, clips, None, opts.duration_s,
                                             opts.detect_fps, opts.budget_ms)
                    result.capacity.append(capacity_point(n, live, opts))
                    bar.update()
                if anchor_on and n in opts.anchor_steps:
                    anchor_on = _anchor_capacity_step(opts, n, moving, static, result, bar)
            bar.update(bar.total - bar.n)
    return result


def _anchor_every_frame(opts: BenchOptions, clip: Path, result: BenchResult, bar: tqdm) -> None:
    if opts.anchor_python is None:
        result.anchor_note = "anchor skipped: no --anchor-python given"
        return
    if not opts.anchor_python.is_file():
        result.anchor_note = f"anchor skipped: {opts.anchor_python} does not exist (a venv with ultralytics)"
        bar.update(1 + len(opts.anchor_steps))
        return
    bar.set_postfix_str("anchor every-frame")
    try:
        runs = sc.anchor(opts.anchor_python, "every-frame", str(opts.model), str(clip), str(opts.repeats))
        result.anchor_fps, result.anchor_cpu = runs["fps_runs"], runs["fps_per_cpu_runs"]
    except (RuntimeError, OSError, ValueError) as exc:
        result.anchor_note = f"anchor failed: {exc}"
    bar.update()


def _anchor_capacity_step(opts: BenchOptions, n: int, moving: Path, static: Path, result: BenchResult,
                          bar: tqdm) -> bool:
    """One anchor capacity step; returns whether to try the next (it sustained and did not fail)."""
    python = opts.anchor_python
    if python is None:
        return False
    bar.set_postfix_str(f"anchor {n} cameras")
    clips = ",".join(str(moving if i % 2 == 0 else static) for i in range(n))
    try:
        point = sc.anchor(python, "capacity", str(opts.model), clips, str(opts.duration_s),
                          str(opts.source_fps), str(opts.detect_fps))
    except (RuntimeError, OSError, ValueError) as exc:
        result.anchor_note = f"anchor capacity failed at {n} cameras: {exc}"
        return False
    point["sustained"] = (point["age_p95_ms"] <= opts.budget_ms
                          and point["detect_fps_per_camera"] >= 0.9 * opts.detect_fps)
    result.anchor_capacity.append(point)
    bar.update()
    return bool(point["sustained"]) or len(result.anchor_capacity) < 2  # 2 steps at least: a mixed pair


def main(opts: BenchOptions) -> tuple[Path, Path]:
    """Run everything and write the report; returns the markdown and PNG paths."""
    started = time.monotonic()
    result = run(opts)
    return pipeline_report.write(result, opts.out_dir, time.monotonic() - started)


def options_from_json(text: str) -> BenchOptions:
    """The options `gridwatch bench` hands over (JSON: paths as strings, tuples as lists)."""
    raw = json.loads(text)
    for key in ("model", "clip", "anchor_python", "out_dir"):
        if raw.get(key) is not None:
            raw[key] = Path(raw[key])
    for key in ("capacity_steps", "anchor_steps"):
        if key in raw:
            raw[key] = tuple(raw[key])
    return BenchOptions(**raw)


if __name__ == "__main__":
    # `gridwatch bench` runs this module as a child process (python -m benchmarks.bench_pipeline OPTIONS_JSON):
    # benchmarks/ is not part of the installed package, and the command line must not import it.
    quiet = bool(os.environ.get("GRIDWATCH_BENCH_QUIET"))  # progress bars, not per-camera log lines
    logging.basicConfig(level=logging.ERROR if quiet else logging.DEBUG, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    md, png = main(options_from_json(sys.argv[1]))
    print(json.dumps({"markdown": str(md), "plot": str(png)}))
