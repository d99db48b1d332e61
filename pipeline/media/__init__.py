"""Media retention's store side: assignments from their sources, the policy's inputs, the persisted queue."""

from pipeline.media.assignments import sync_assignments
from pipeline.media.config import load_retention
from pipeline.media.inputs import MediaInputs, media_inputs
from pipeline.media.queue import refresh_queue

__all__ = ["MediaInputs", "load_retention", "media_inputs", "refresh_queue", "sync_assignments"]
