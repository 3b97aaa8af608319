"""Camera rules: filtered, tracked detections and motion in; START / UPDATE / END rule events out."""

from edge.rules.engine import RuleEngine
from edge.rules.events import EventObject, RuleEvent
from edge.rules.filters import COCO_CLASS_NAMES

__all__ = ["COCO_CLASS_NAMES", "EventObject", "RuleEngine", "RuleEvent"]
