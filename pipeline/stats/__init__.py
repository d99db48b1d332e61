"""Stats: periods, the numbers of an issue, and frozen issue snapshots."""

from pipeline.stats.issue import Limits, compute_issue
from pipeline.stats.periods import Period, latest_complete, parse_period, period_containing, periods_between
from pipeline.stats.snapshots import list_snapshots, load_snapshot, save_snapshot

__all__ = ["Limits", "Period", "compute_issue", "latest_complete", "list_snapshots", "load_snapshot",
           "parse_period", "period_containing", "periods_between", "save_snapshot"]
