"""The day loops that the CLI and the workflow share: Phase 1 download, Phase 2 process."""
