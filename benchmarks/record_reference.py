"""Record Ultralytics' detections on the shared photos as test fixtures (run in the anchor venv, not ours).

    YOLO_OFFLINE=1 /work/anchor-venv/bin/python benchmarks/record_reference.py [--shared ../shared]

Writes tests/fixtures/detector/<model>__<image>.json. The runtime never imports this file; tests only read
what it wrote, so the suite needs neither Ultralytics nor torch.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
from pathlib import Path

import onnxruntime as ort
import ultralytics
from ultralytics import YOLO

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ("bus.jpg", "zidane.jpg")
# The thresholds gridwatch's Detector uses by default; Ultralytics' own default IoU (0.7) would differ.
PARAMS = {"conf": 0.25, "iou": 0.45, "max_det": 300}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_imgsz(path: Path) -> list[int]:
    meta = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta()
    return list(ast.literal_eval(meta.custom_metadata_map["imgsz"]))


def record(model_path: Path, image_path: Path, out_dir: Path) -> Path:
    imgsz = model_imgsz(model_path)
    model = YOLO(str(model_path), task="detect")
    result = model.predict(str(image_path), imgsz=imgsz, verbose=False, device="cpu", **PARAMS)[0]
    boxes = result.boxes
    detections = [
        {"class_id": int(c), "class_name": result.names[int(c)], "score": round(float(s), 5),
         "xyxy": [round(float(v), 2) for v in xyxy]}
        for xyxy, s, c in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True)
    ]
    fixture = {
        "model": model_path.name, "model_sha256": sha256(model_path),
        "image": image_path.name, "image_sha256": sha256(image_path),
        "image_hw": list(result.orig_shape), "imgsz": imgsz,
        "recorded_with": f"ultralytics {ultralytics.__version__}, onnxruntime {ort.__version__}",
        "params": PARAMS, "detections": detections,
    }
    out = out_dir / f"{model_path.stem}__{image_path.stem}.json"
    out.write_text(json.dumps(fixture, indent=1) + "\n", encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the ../shared folder")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "detector")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for model_path in sorted((args.shared / "models").glob("*.onnx")):
        for image in IMAGES:
            out = record(model_path, args.shared / "media" / image, args.out)
            print(f"{out.relative_to(ROOT)}: {len(json.loads(out.read_text())['detections'])} detections")


if __name__ == "__main__":
    main()
