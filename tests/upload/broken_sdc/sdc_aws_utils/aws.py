"""Imports what the real ``sdc_aws_utils.aws`` needs first, and is not installed."""

import swxsoc_reach_test_missing_dependency  # noqa: F401
