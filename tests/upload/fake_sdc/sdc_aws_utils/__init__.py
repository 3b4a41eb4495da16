"""Test stand-in for the external ``sdc_aws_utils`` (not on the package index).

Put on ``sys.path`` only by the tests of the adapter (tests/upload/test_sdc.py).
It keeps the two behaviours our adapter must cope with: ``push_science_file``
reads ``/tmp/<name>``, and the key depends on ``SWXSOC_MISSION`` as read at import.
"""
