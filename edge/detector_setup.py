"""The gateway's one shared detector: found (or not: motion-only, said once with how to get a model) and
sized for the cameras and cores it will serve."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from edge.config import CameraConfig
from edge.errors import ModelError
from edge.gateway_config import GatewaySettings, inference_plan

log = logging.getLogger(__name__)


FOLLOW_HUB_CONF = 0.1
"""The detector's own score floor when the hub decides the cameras (each camera then applies its own)."""


def planned_cameras(settings: GatewaySettings, cameras: Sequence[CameraConfig]) -> int:
    """How many cameras to size inference for: the local ones, or at least one per core when the hub's config
    decides them (they arrive after the detector is built)."""
    return max(len(cameras), os.cpu_count() or 1) if settings.follow_hub else len(cameras)


def load_detector(settings: GatewaySettings, cameras: Sequence[CameraConfig]):  # noqa: ANN201
    """The shared Detector, or None (motion-only) when no model is found: said once, with how to get one."""
    from edge.detector import Detector
    from models.registry import HOW_TO_GET_ONE, resolve_model

    try:
        path = resolve_model(settings.model, data_dir=settings.data_dir)
    except ModelError as exc:
        if settings.model is not None:
            raise ModelError(f"--model {settings.model}: no such model file: {HOW_TO_GET_ONE}") from exc
        log.warning("no detector model: cameras run motion-only (rules of kind motion). %s", exc)
        return None
    conf = min((c.detect.conf_threshold for c in cameras), default=0.25)
    if settings.follow_hub:  # cameras come and go with the hub's config: each camera filters at its own level
        conf = min(conf, FOLLOW_HUB_CONF)
    workers, threads = inference_plan(settings.inference, planned_cameras(settings, cameras), os.cpu_count() or 1)
    log.info("inference: %d worker(s) x %d ONNX Runtime thread(s)", workers, threads)
    detector = Detector(Path(path), threads=threads,
                        providers=list(settings.inference.providers) or None, conf_threshold=conf)
    detector.warmup()
    return detector
