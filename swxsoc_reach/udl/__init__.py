"""Talking to the Unified Data Library: credentials, lossless windows, adaptive rate,
the HTTP client and the day's artifact (udl.md, historical-download.md)."""
