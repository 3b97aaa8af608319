"""`gridwatch bench`: run the pipeline benchmark (ceiling vs Ultralytics anchor vs gridwatch) and write its
report; not part of CI."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import fail, one_line_errors, setup_logging

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
    if not verbose:
        import logging

        logging.getLogger().setLevel(logging.ERROR)  # progress bars, not per-camera log lines
    sys.path.insert(0, str(REPO))  # benchmarks/ lives beside the package, not inside it
    from benchmarks.bench_pipeline import BenchOptions, main

    model = model or SHARED_MODEL
    if not model.is_file():
        fail(f"model {model} not found: pass --model FILE (an Ultralytics detector ONNX)")
    if clip is None and SHARED_CLIP.is_file():
        clip = SHARED_CLIP
    if quick:
        repeats, duration_s, max_cameras = 1, 4.0, min(max_cameras, 4)
    steps = tuple(n for n in (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 32, 48, 64) if n <= max_cameras)
    anchor_steps = tuple(n for n in (1, 2, 4, 8) if n <= max_cameras)
    command = "gridwatch " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with one_line_errors():
        md, png = main(BenchOptions(model=model, clip=clip, anchor_python=anchor_python, out_dir=out_dir,
                                    repeats=repeats, threads=threads, capacity_steps=steps,
                                    anchor_steps=anchor_steps, duration_s=duration_s, command=command))
    typer.echo(f"wrote {md} and {png}")
