"""How the gateway divides its cores between inference workers and ONNX Runtime threads."""

from __future__ import annotations

import pytest

from edge.settings import InferenceSettings, inference_plan


@pytest.mark.parametrize(
    ("workers", "threads", "cameras", "cores", "plan"),
    [
        (None, None, 1, 2, (1, 2)),    # one camera: its frames go one at a time, so one run uses both cores
        (None, None, 2, 2, (2, 1)),    # several cameras: two single-threaded runs side by side
        (None, None, 16, 2, (2, 1)),
        (None, None, 3, 8, (3, 2)),
        (None, None, 0, 2, (1, 2)),    # motion-only gateway still gets a sane plan
        (1, None, 16, 2, (1, 2)),      # forced one worker: all cores to its runs
        (None, 4, 16, 2, (2, 4)),      # forced threads are kept as given
        (3, 1, 2, 2, (3, 1)),
    ],
)
def test_inference_plan(workers, threads, cameras, cores, plan) -> None:
    settings = InferenceSettings(workers=workers, threads=threads)
    assert inference_plan(settings, cameras, cores) == plan


def test_bounds_are_enforced() -> None:
    with pytest.raises(ValueError, match="workers"):
        InferenceSettings(workers=0)
