"""What the edge worker tests share: an inbox that collects a gateway's MQTT messages and waits on them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kernel.contracts.messages import AlertEvent, CameraStatus, decode
from kernel.mqtt import Message


class Inbox:
    """Every message under a subscription, in arrival order; ``wait_for`` blocks on a predicate."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.cond = threading.Condition()

    def __call__(self, message: Message) -> None:
        with self.cond:
            self.messages.append(message)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Message]], bool], timeout_s: float = 20.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: predicate(self.messages), timeout_s)

    def count(self, predicate: Callable[[Message], bool]) -> int:
        with self.cond:
            return sum(1 for m in self.messages if predicate(m))

    def alerts(self) -> list[AlertEvent]:
        with self.cond:
            return [decode(AlertEvent, m.payload) for m in self.messages if "/events/" in m.topic]

    def camera_statuses(self, camera_id: str) -> list[CameraStatus]:
        with self.cond:
            return [decode(CameraStatus, m.payload) for m in self.messages
                    if m.topic.endswith(f"/cameras/{camera_id}/status")]
