"""The task orchestrators: the only place that wires stages together, one module per task."""
