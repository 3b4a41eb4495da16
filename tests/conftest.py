"""Shared fixtures. Every test writes only under ``tmp_path`` and talks only to 127.0.0.1."""

from __future__ import annotations
