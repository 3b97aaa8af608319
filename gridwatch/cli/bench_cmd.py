"""`gridwatch bench`: run the pipeline benchmark (ceiling vs Ultralytics anchor vs gridwatch) and write its
report; not part of CI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import fail, setup_logging

REPO = Path(__file__).resolve().parents[2]
SHARED_MODEL = REPO.parent / "shared" / "models" / "yolo11n-coco-int8-320.onnx"
SHARED_CLIP = REPO.parent / "shared" / "media" / "pedestrians-768x576-10fps-150f.mp4"


def bench(
    model: Annotated[Path | None, typer.Option(
        help="ONNX detector [../shared/models/yolo11n-coco-int8-320.onnx]")] = None,
    clip: Annotated[Path | None, typer.Option(help="moving clip [../shared/media/pedestrians...mp4, "
                                                   "else a synthetic one]")] = None,
    anchor_python: Annotated[Path | None, typer.Option(
        help="python of a venv with ultralytics, for the anchor; absent: anchor skipped")] = None,
    out_dir: Annotated[Path, typer.Option(help="where pipeline.md and pipeline.png go")] = Path(
        "docs/benchmarks"),
    repeats: Annotated[int, typer.Option(min=1, max=10, help="every-frame repeats (medians)")] = 3,
    threads: Annotated[int, typer.Option(min=1, max=64, help="inference threads")] = 2,
    max_cameras: Annotated[int, typer.Option(min=1, max=64, help="largest camera count tried")] = 24,
    duration_s: Annotated[float, typer.Option(min=2, max=600, help="seconds per capacity step")] = 10.0,
    quick: Annotated[bool, typer.Option("--quick", help="1 repeat, 4 s steps, at most 4 cameras")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
) -> None:
    """Benchmark the edge pipeline and write docs/benchmarks/pipeline.md and pipeline.png.

    Examples:

      gridwatch bench --anchor-python /work/anchor-venv/bin/python

      gridwatch bench --quick

      gridwatch bench --model my-model.onnx --clip street.mp4 --max-cameras 8 --out-dir /tmp/bench
    """
    setup_logging(verbose)
    if not (REPO / "benchmarks" / "bench_pipeline.py").is_file():
        fail(f"`gridwatch bench` runs from a source checkout: {REPO / 'benchmarks'} not found")
    model = model or SHARED_MODEL
    if not model.is_file():
        fail(f"model {model} not found: pass --model FILE (an Ultralytics detector ONNX)")
    if clip is None and SHARED_CLIP.is_file():
        clip = SHARED_CLIP
    if quick:
        repeats, duration_s, max_cameras = 1, 4.0, min(max_cameras, 4)
    steps = [n for n in (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 32, 48, 64) if n <= max_cameras]
    anchor_steps = [n for n in (1, 2, 4, 8) if n <= max_cameras]
    options = {
        "model": str(model.resolve()), "clip": str(clip.resolve()) if clip else None,
        "anchor_python": str(anchor_python) if anchor_python else None, "out_dir": str(out_dir.resolve()),
        "repeats": repeats, "threads": threads, "capacity_steps": steps, "anchor_steps": anchor_steps,
        "duration_s": duration_s, "command": "gridwatch " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    }
    # The benchmark is a child process: benchmarks/ lives beside the package, not in it, and is never imported
    # by the command line (issue 16: layers).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    if not verbose:
        env["GRIDWATCH_BENCH_QUIET"] = "1"
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_pipeline", json.dumps(options)],
                          cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        fail(f"the benchmark failed (exit status {done.returncode}); rerun with --verbose for details")
    written = json.loads(done.stdout.strip().splitlines()[-1])
    typer.echo(f"wrote {written['markdown']} and {written['plot']}")
