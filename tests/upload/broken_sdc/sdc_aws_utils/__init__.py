"""Test stand-in for an ``sdc_aws_utils`` that is installed but cannot be imported.

Like the real library installed without its dependency ``swxsoc``: the package is
found, and importing its ``aws`` module raises ``ModuleNotFoundError``. Put on the
path only by tests/upload/test_sdc.py.
"""
