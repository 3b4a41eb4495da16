"""The exception hierarchy: callers branch on class, never on message text.

``cli.py`` maps these to exit codes: a ``ConfigError`` (or ``CredentialsError``)
is a usage problem (exit 2); the data-side errors fail one day (exit 1).
"""


class ReachError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(ReachError, ValueError):
    """A flag, config key or date that cannot be used as given."""


class CredentialsError(ConfigError):
    """No usable UDL or AWS credentials were found."""


class MissingDependencyError(ConfigError, RuntimeError):
    """An optional extra is not installed (the spec names RuntimeError for this)."""


class UdlError(ReachError):
    """UDL answered something we cannot use, or kept failing after the retries."""


class InputDataError(ReachError):
    """An input artifact is unreadable or inconsistent; fails only its day."""


class CdfError(ReachError):
    """The CDF could not be built or written."""


class CdfChangedError(CdfError):
    """A CDF's bytes are no longer those its PROCESSED row recorded: it is not uploaded."""


class UploadError(ReachError):
    """The S3 upload failed or could not be confirmed."""


class SystemicError(ReachError):
    """A fault of the surroundings, not of the day: every following day would hit it too
    (UDL unreachable or refusing the credential, S3 endpoint, bucket or credentials
    unusable). A range stops after a few days in a row fail with the same one."""


class UdlUnavailableError(UdlError, SystemicError):
    """UDL cannot be reached, or refuses the credential (HTTP 401/403)."""


class UploadUnavailableError(UploadError, SystemicError):
    """The S3 endpoint, bucket or credentials cannot be used."""


class RangeStoppedError(ReachError):
    """The range was stopped before its end (too little disk, a systemic fault); the days
    after it were not attempted and have no row."""


class TelemetryError(ReachError):
    """The telemetry file cannot be appended to (a row would be lost)."""
