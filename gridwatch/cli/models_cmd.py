"""`gridwatch models ...`: inspect, list and export detector models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gridwatch.cli.common import one_line_errors

app = typer.Typer(
    help=(
        "Detector models: what a file is, which ones this machine has, and exporting new ones.\n\n"
        "  gridwatch models inspect ../shared/models/yolov8n-coco-int8-640.onnx\n\n"
        "  gridwatch models list --data-dir var\n\n"
        "  gridwatch models export --weights yolo11n.pt --imgsz 320"
    ),
    no_args_is_help=True,
)


@app.command("inspect")
def inspect(
    file: Annotated[Path, typer.Argument(help="An ONNX model file.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
) -> None:
    """Show what an ONNX detector is: family, input size, output layout, classes, whether it needs NMS.

    Everything comes from the file itself (its inputs, outputs and Ultralytics metadata), so this is also
    the quickest check that a file will load on a gateway. Exits 1 with one line when it will not.

    Examples:

      gridwatch models inspect ../shared/models/yolov8n-coco-int8-640.onnx

      gridwatch models inspect ../shared/models/yolo26n-coco-int8-640-nms-free.onnx --json
    """
    from models.spec import read_spec

    with one_line_errors():
        spec = read_spec(file)
    if as_json:
        typer.echo(json.dumps(spec.as_dict()))
        return
    h, w = spec.input_hw
    batch = "dynamic" if spec.batch is None else str(spec.batch)
    nms = "yes (class-aware NMS in gridwatch)" if spec.needs_nms else "no (end-to-end: the model suppresses)"
    boxes = "?" if spec.num_boxes is None else str(spec.num_boxes)
    shape = f"1x{4 + spec.num_classes}x{boxes}" if spec.needs_nms else f"1x{boxes}x6"
    lines = [
        f"file:         {spec.path}",
        f"family:       {spec.family}" + (f" (exported by Ultralytics {spec.producer_version})"
                                          if spec.producer_version else ""),
        f"task:         {spec.task}",
        f"input:        {spec.input_name} {w}x{h} px (width x height), batch {batch}, {spec.input_dtype}",
        f"output:       {spec.output_name} {spec.layout.value} layout, {shape}",
        f"needs NMS:    {nms}",
        f"classes:      {spec.num_classes}",
        f"class names:  {', '.join(f'{i}={n}' for i, n in enumerate(spec.class_names))}",
        f"stride:       {spec.stride if spec.stride is not None else 'unknown'}",
        f"licence:      {spec.licence or 'not stated'}",
        f"sha256:       {spec.sha256}",
    ]
    typer.echo("\n".join(lines))


@app.command("list")
def list_models(
    data_dir: Annotated[Path | None, typer.Option(envvar="GRIDWATCH_DATA_DIR",
                                                  help="Also search <data-dir>/models.")] = None,
) -> None:
    """List the ONNX models a gateway on this machine would find, and the one it would pick by default.

    Searched in order: $GRIDWATCH_MODELS_DIR, <data-dir>/models, ./models/store.

    Examples:

      gridwatch models list

      GRIDWATCH_MODELS_DIR=../shared/models gridwatch models list
    """
    from models.registry import find_models, model_dirs, resolve_model

    dirs = model_dirs(data_dir)
    found = find_models(dirs)
    typer.echo("searched: " + ", ".join(str(d) for d in dirs))
    with one_line_errors():
        default = resolve_model(None, data_dir=data_dir)
    for path in found:
        typer.echo(f"{'*' if path == default else ' '} {path}")
    typer.echo("(* = used when no --model is given)")


@app.command("export")
def export(
    weights: Annotated[str, typer.Option(help="Ultralytics weights (.pt) or a model name like yolo11n.pt.")],
    imgsz: Annotated[int, typer.Option(min=32, max=4096, help="Square network input size in pixels.")] = 320,
    int8: Annotated[bool, typer.Option("--int8", help="Quantize to int8 (Ultralytics calibrates on --data).")]
    = False,
    data: Annotated[str | None, typer.Option(help="Dataset YAML for int8 calibration.")] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the .onnx and its manifest go.")]
    = Path("models/store"),
    name: Annotated[str | None, typer.Option(help="Model name in the manifest (default: <weights>-<imgsz>).")]
    = None,
    version: Annotated[str, typer.Option(help="Release version written to the manifest.")] = "1",
) -> None:
    """Export Ultralytics weights to an ONNX detector plus a manifest (name, version, sha256, classes).

    Needs the export extra (Ultralytics and torch), so run it on a workstation, then copy the .onnx and
    .manifest.json to the gateway's models folder.

    Examples:

      pip install 'gridwatch[export]'

      gridwatch models export --weights yolo11n.pt --imgsz 320

      gridwatch models export --weights runs/train/weights/best.pt --imgsz 640 --name garbage --version 2
    """
    from models.export import ExportRequest, export_model

    request = ExportRequest(weights=weights, imgsz=imgsz, int8=int8, calibration_data=data, out_dir=out_dir,
                            name=name, version=version)
    with one_line_errors():
        result = export_model(request)
    typer.echo(f"wrote {result.spec.path} ({result.spec.family}, {result.spec.layout.value}, "
               f"{result.spec.num_classes} classes) and {result.manifest_path}")
