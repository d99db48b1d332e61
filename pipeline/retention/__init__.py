"""Media retention's store side: assignments from their sources, the policy's inputs, the persisted queue."""

from pipeline.retention.assignments import sync_assignments
from pipeline.retention.config import load_retention
from pipeline.retention.inputs import MediaInputs, media_inputs, media_policy
from pipeline.retention.queue import refresh_queue

__all__ = ["MediaInputs", "load_retention", "media_inputs", "media_policy", "refresh_queue", "sync_assignments"]
