"""The camera supervisor: starts, stops and restarts each camera's capture reader and pipeline, and revives
a reader whose thread died (logged, counted in the thread metrics, started again)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from edge.camera_health import OfflineWatch
from edge.capture import STOPPED, CaptureReader, SourceSpec
from edge.pipeline import AlertSink, CameraPipeline
from edge.scheduler import InferenceScheduler
from edge.threads import ThreadHealth
from kernel.camera_config import CameraConfig
from kernel.contracts.messages import Availability

log = logging.getLogger(__name__)

StatusSink = Callable[[str, OfflineWatch, Availability, str], None]
"""Told every availability change a running camera's reader reports, with the camera's offline watch (the
status reporter publishes it)."""


@dataclass(slots=True)
class CameraRuntime:
    """One running camera: its config, reader, pipeline and availability watch. ``stopping`` is set before its
    reader is stopped on purpose, so nothing the reader says while stopping is taken for a fault."""

    camera: CameraConfig
    reader: CaptureReader
    pipeline: CameraPipeline
    health: OfflineWatch
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def camera_id(self) -> str:
        return self.camera.camera_id


class CameraSupervisor:
    """Runs the gateway's cameras: one capture reader and one pipeline each, on the shared scheduler."""

    def __init__(self, gateway_id: str, sink: AlertSink, scheduler: InferenceScheduler | None,
                 on_status: StatusSink, health: ThreadHealth, *, every_frame: bool = False) -> None:
        self.gateway_id = gateway_id
        self.scheduler = scheduler
        self._sink = sink
        self._on_status = on_status
        self._health = health
        self._every_frame = every_frame
        self._lock = threading.Lock()
        self._announce_stop = threading.Event()  # set by stop_all: readers then say "stopped" (retained status)
        self.runtimes: dict[str, CameraRuntime] = {}

    def start(self, camera: CameraConfig) -> CameraRuntime:
        """Start one camera (its reader and its pipeline, registered with the scheduler)."""
        cid = camera.camera_id
        if (self.scheduler is not None and camera.detect.model
                and Path(camera.detect.model).name != self.scheduler.model_file):
            log.warning("camera %s names model %s, but a gateway runs one shared detector: it uses %s",
                        cid, camera.detect.model, self.scheduler.model_file)
        pipeline = CameraPipeline(camera, self.gateway_id, self._sink, scheduler=self.scheduler,
                                  every_frame=self._every_frame)
        if self.scheduler is not None:
            self.scheduler.add_camera(cid, detect_fps=camera.detect.detect_fps, budget_ms=camera.detect.budget_ms,
                                      on_result=pipeline.on_detected, on_skip=pipeline.on_budget_skip)
        health = OfflineWatch(self.gateway_id, cid, camera.health.offline_debounce_s, title=camera.name or cid)
        stopping = threading.Event()
        runtime = CameraRuntime(camera, self._reader(camera, pipeline, health, stopping), pipeline, health,
                                stopping)
        # a reader thread is fine while it runs or once it ended by design (a file played to its end)
        self._health.watch(f"capture-{cid}", lambda: runtime.reader.running or runtime.reader.finished.is_set())
        with self._lock:  # started under the lock: revive() never takes a reader not yet started for dead
            self.runtimes[cid] = runtime
            runtime.reader.start()
        return runtime

    def _reader(self, camera: CameraConfig, pipeline: CameraPipeline, health: OfflineWatch,
                stopping: threading.Event) -> CaptureReader:
        """A reader whose frames go to ``pipeline`` and whose status reports go on until ``stopping``."""
        def on_status(camera_id: str, state: Availability, reason: str) -> None:
            # Once stopping, only the reader's own "stopped" goes on, and only when the whole gateway stops (a
            # camera stopped alone is restarted, or announced as removed, by the worker).
            if not stopping.is_set() or (reason == STOPPED and self._announce_stop.is_set()):
                self._on_status(camera_id, health, state, reason)

        return CaptureReader(camera.camera_id, SourceSpec.from_section(camera.source), on_frame=pipeline.on_frame,
                             on_status=on_status, on_decoded=pipeline.on_decoded,
                             on_bad_frame=pipeline.on_bad_frame)

    def stop(self, camera_id: str) -> CameraRuntime:
        """Stop one camera; its reader's last status report is not passed on (see CameraRuntime)."""
        with self._lock:  # with revive(): a camera being stopped is never revived
            runtime = self.runtimes.pop(camera_id)
            runtime.stopping.set()
        runtime.reader.stop()
        if self.scheduler is not None:
            self.scheduler.remove_camera(camera_id)
        self._health.forget(f"capture-{camera_id}")
        return runtime

    def stop_all(self) -> list[CameraRuntime]:
        """Stop every camera (readers first, all asked at once, so shutdown does not wait camera by camera)."""
        with self._lock:
            runtimes = list(self.runtimes.values())
            self.runtimes.clear()
            self._announce_stop.set()
            for runtime in runtimes:
                runtime.stopping.set()
        for runtime in runtimes:
            runtime.reader.stop(timeout_s=0)
        for runtime in runtimes:
            runtime.reader.stop()
        return runtimes

    def running(self) -> list[CameraRuntime]:
        with self._lock:
            return list(self.runtimes.values())

    def cameras(self) -> Iterable[CameraConfig]:
        return [runtime.camera for runtime in self.running()]

    def revive(self) -> int:
        """Start a new reader for every camera whose reader thread died (an error capture did not handle);
        the death is logged and counted. Returns how many were revived."""
        revived = 0
        with self._lock:
            for runtime in self.runtimes.values():
                reader = runtime.reader
                if runtime.stopping.is_set() or reader.running or reader.finished.is_set():
                    continue  # running, stopped on purpose, or a file that ended
                name = f"capture-{runtime.camera_id}"
                self._health.restarted(name)
                log.error("camera %s: its capture thread died (%s); starting it again (restart %d)",
                          runtime.camera_id, reader.last_error or "see the traceback above",
                          self._health.restarts(name))
                runtime.reader = self._reader(runtime.camera, runtime.pipeline, runtime.health, runtime.stopping)
                runtime.reader.start()
                revived += 1
        return revived
