"""Telemetry: the append-only CSV that is the truth about every day, and the resume rules."""
