"""`gridwatch detect`: run the detector on a photo or a clip and print (or draw) what it finds."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from gridwatch.cli.common import fail, one_line_errors

if TYPE_CHECKING:
    import cv2
    import numpy as np
    import numpy.typing as npt

    from edge.detector import Detector
    from edge.types import Detections


def detect(
    source: Annotated[Path, typer.Argument(help="An image or video file.", show_default=False)],
    model: Annotated[Path | None, typer.Option(envvar="GRIDWATCH_MODEL",
                                               help="ONNX detector; default: the models folder.")] = None,
    conf: Annotated[float, typer.Option(min=0.0, max=1.0, help="Minimum score.")] = 0.25,
    iou: Annotated[float, typer.Option(min=0.0, max=1.0, help="NMS IoU threshold.")] = 0.45,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per image or frame.")] = False,
    save: Annotated[Path | None, typer.Option(help="Write an annotated copy (image or mp4) here.")] = None,
    threads: Annotated[int, typer.Option(min=1, help="ONNX Runtime intra-op threads.")] = 2,
    data_dir: Annotated[Path | None, typer.Option(envvar="GRIDWATCH_DATA_DIR",
                                                  help="Also look for models in <data-dir>/models.")] = None,
) -> None:
    """Detect objects in an image or video and print class, score and pixel box (per frame for a video).

    With --json, prints one line per image or frame:
    {"source": ..., "frame": ..., "detections": [{"class_id", "class_name", "score", "xyxy"}]}

    Examples:

      gridwatch detect ../shared/media/bus.jpg --model ../shared/models/yolo11n-coco-int8-320.onnx

      gridwatch detect snapshot.jpg --conf 0.4 --save snapshot-annotated.jpg

      gridwatch detect ../shared/media/pedestrians-768x576-10fps-150f.mp4 --json > detections.jsonl
    """
    from edge.detector import Detector
    from models.registry import resolve_model

    with one_line_errors():
        detector = Detector(resolve_model(model, data_dir=data_dir), threads=threads,
                            conf_threshold=conf, iou_threshold=iou)
        frames = _frames(source)
        first = next(frames, None)
        if first is None:
            fail(f"{source}: no readable image or video frames (corrupt, truncated or not a media file?)")
        fps = first[2]
        writer = _Writer(save, fps)
        try:
            for index, image_bgr, _ in itertools.chain([first], frames):
                detections, _times = detector.detect(image_bgr)
                typer.echo(_render(source, index, detections, detector, as_json, is_video=fps is not None))
                if save is not None:
                    writer.write(_annotate(image_bgr, detections, detector))
        finally:
            writer.close()
    if save is not None:
        typer.echo(f"wrote {save}", err=as_json)


def _frames(source: Path) -> Iterator[tuple[int, npt.NDArray[np.uint8], float | None]]:
    """(frame index, BGR image, video fps or None for a still) for an image file or every frame of a video."""
    import cv2
    import numpy as np

    from edge.errors import SourceError

    if not source.is_file():
        raise SourceError(f"{source}: no such file")
    if cv2.haveImageReader(str(source)):  # sniffs the file's signature, not its name
        data = np.fromfile(source, dtype=np.uint8)
        image: npt.NDArray[np.uint8] | None = cv2.imdecode(data, cv2.IMREAD_COLOR)  # type: ignore[assignment]
        # libjpeg decodes a cut-off JPEG as a grey-padded picture and only warns; its end marker tells.
        truncated_jpeg = data[:2].tobytes() == b"\xff\xd8" and b"\xff\xd9" not in data[-64:].tobytes()
        if image is None or truncated_jpeg:
            raise SourceError(f"{source}: looks like an image but could not be decoded "
                              "(corrupt or truncated?)")
        yield 0, image, None
        return
    capture = cv2.VideoCapture(str(source))
    try:
        if not capture.isOpened():
            raise SourceError(f"{source}: not an image, and OpenCV cannot open it as a video "
                              "(corrupt, truncated, or an unsupported format?)")
        fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield index, cast("npt.NDArray[np.uint8]", frame), fps
            index += 1
        if index == 0:
            raise SourceError(f"{source}: opened as a video but no frame could be decoded "
                              "(corrupt or truncated?)")
        if declared > 0 and index < declared - 1:  # containers may over-count by one; more means lost frames
            raise SourceError(f"{source}: video ended after {index} of the {declared} frames its header "
                              "declares (truncated or corrupt?)")
    finally:
        capture.release()


def _render(source: Path, index: int, detections: Detections, detector: Detector, as_json: bool,
            *, is_video: bool) -> str:
    names = [detector.spec.class_name(int(c)) for c in detections.class_id]
    if as_json:
        return json.dumps({
            "source": str(source), "frame": index,
            "detections": [
                {"class_id": int(c), "class_name": n, "score": round(float(s), 4),
                 "xyxy": [round(float(v), 1) for v in box]}
                for c, n, s, box in zip(detections.class_id, names, detections.confidence, detections.xyxy,
                                        strict=True)
            ],
        })
    head = f"{source}" + (f" frame {index}" if is_video else "") + f": {len(detections)} detections"
    rows = [
        f"  {n:<16} {float(s):.2f}  [{', '.join(f'{float(v):.0f}' for v in box)}]"
        for n, s, box in zip(names, detections.confidence, detections.xyxy, strict=True)
    ]
    return "\n".join([head, *rows])


def _annotate(image_bgr: npt.NDArray[np.uint8], detections: Detections, detector: Detector
              ) -> npt.NDArray[np.uint8]:
    import cv2

    out = image_bgr.copy()
    for box, score, class_id in zip(detections.xyxy, detections.confidence, detections.class_id, strict=True):
        x1, y1, x2, y2 = (int(round(float(v))) for v in box)
        colour = _colour(int(class_id))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, 2)
        label = f"{detector.spec.class_name(int(class_id))} {float(score):.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(y1 - th - base - 2, 0)
        cv2.rectangle(out, (x1, top), (x1 + tw + 4, top + th + base + 2), colour, cv2.FILLED)
        cv2.putText(out, label, (x1 + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return out


def _colour(class_id: int) -> tuple[int, int, int]:
    """A stable, distinguishable BGR colour per class."""
    return ((class_id * 67) % 200 + 30, (class_id * 131) % 200 + 30, (class_id * 197) % 200 + 30)


class _Writer:
    """Writes annotated output: one image for a still, an mp4 for a video; does nothing without --save."""

    def __init__(self, path: Path | None, fps: float | None) -> None:
        self._path, self._fps = path, fps
        self._video: cv2.VideoWriter | None = None

    def write(self, image_bgr: npt.NDArray[np.uint8]) -> None:
        import cv2

        from edge.errors import SourceError

        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if self._fps is None:
            if not cv2.imwrite(str(self._path), image_bgr):
                raise SourceError(f"{self._path}: could not write the annotated image (unknown extension?)")
            return
        if self._video is None:
            h, w = image_bgr.shape[:2]
            self._video = cv2.VideoWriter(str(self._path), cv2.VideoWriter.fourcc(*"mp4v"), self._fps, (w, h))
            if not self._video.isOpened():
                raise SourceError(f"{self._path}: could not open a video writer (use an .mp4 name)")
        self._video.write(image_bgr)

    def close(self) -> None:
        if self._video is not None:
            self._video.release()
