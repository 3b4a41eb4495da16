"""swxsoc_reach: REACH dosimeter observations from UDL to validated L1C CDFs on S3.

Importing the package is cheap on purpose: every workflow job is a new process,
so heavy libraries (pandas, cdflib, boto3) load inside the command that needs them.
"""

__version__ = "0.1.0"
