"""Operator-facing views: status, coverage, plots, report, quicklook, progress, demo, sandbox."""
