"""The S3 uploader: one per run, one boto3 client, two ways to send a CDF.

historical-process.rst "S3 upload arguments" and "Optional dependencies";
the key rule is l1c-cdf.md "Name, place, key" (``keys.py``).

- Transfer: ``sdc_aws_utils.aws.push_science_file`` when that package is
  importable (the spec's call; adapter in ``sdc.py``), else boto3's managed
  transfer straight to the same key, with ``ContentType application/x-cdf`` and
  a SHA256 checksum the server verifies (per part for multipart, from 8 MiB on).
- Confirmation: ``head_object`` on the run's client; the receipt is returned
  only when size and checksum match the local file (``verify.py``).
- Configuration: boto3's standard chains for credentials, region and endpoint
  (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` reach a local endpoint);
  ``--aws-region`` overrides the region. Nothing touches the network until the
  first upload, so a missing bucket or credential fails days, not the start-up.

boto3 is imported inside ``open_uploader`` only: the CLI must start fast. Every
failure is an ``UploadError`` whose message says what to fix, with any
credential value redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swxsoc_reach.errors import (
    ConfigError,
    MissingDependencyError,
    UploadError,
    UploadUnavailableError,
)
from swxsoc_reach.fsutil import atomic_path
from swxsoc_reach.upload.keys import s3_key
from swxsoc_reach.upload.verify import (
    PART_SIZE,
    StoredObject,
    check_fetched,
    check_recorded,
    confirm_stored,
)

if TYPE_CHECKING:
    import boto3

    from swxsoc_reach.upload.sdc import PushScienceFile

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-cdf"
CHECKSUM_ALGORITHM = "SHA256"
INSTALL_HINT = "S3 upload needs boto3: pip install 'swxsoc_reach[net]'"
# S3 bucket naming rules (3-63 characters: lowercase letters, digits, '.', '-').
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# An unreachable endpoint fails a day after 10 s per attempt, not boto3's default 60 s.
CONNECT_TIMEOUT_S = 10
RETRY_HINT = "then rerun with --retry-failed"

Transfer = Callable[[Path, str], str]
"""Send the file at a path to a key; return the key the object was stored at."""


@dataclass(frozen=True)
class UploadReceipt:
    """Where a confirmed object lives."""

    bucket: str
    key: str


class Uploader:
    """Uploads CDFs to one bucket and confirms each object before answering."""

    def __init__(self, bucket: str, session: boto3.session.Session, client: Any,
                 transfer: Transfer, backend: str) -> None:
        self.bucket = bucket
        self.backend = backend
        self._client = client
        self._transfer = transfer
        # resolved once, as the client did; kept only to redact them from messages
        self._credentials = session.get_credentials()

    @property
    def region(self) -> str | None:
        """The region the client resolved (``--aws-region`` or boto3's chain)."""
        return self._client.meta.region_name

    @property
    def endpoint(self) -> str:
        """The endpoint URL the client resolved (``AWS_ENDPOINT_URL`` or AWS's)."""
        return self._client.meta.endpoint_url

    def upload(self, cdf_path: Path, sha256: str | None = None) -> UploadReceipt:
        """Upload ``cdf_path`` to its key; return only once the stored bytes are confirmed.

        ``sha256``: the digest its PROCESSED row recorded; a CDF whose bytes are no longer
        those is not sent (``CdfChangedError``), and the stored object is compared with
        the bytes checked (``verify.check_recorded``)."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        cdf_path = Path(cdf_path)
        if not cdf_path.is_file():
            raise UploadError(f"CDF {cdf_path} does not exist: rerun without --retry-failed "
                              "to re-process its day")
        try:
            key = s3_key(cdf_path.name)
        except ValueError as exc:
            raise UploadError(str(exc)) from exc
        where = f"s3://{self.bucket}/{key}"
        sent = check_recorded(cdf_path, sha256) if sha256 else None
        try:
            stored_key = self._transfer(cdf_path, key)
            if stored_key != key:
                raise UploadError(f"{self.backend} stored {cdf_path.name} at s3://{self.bucket}/"
                                  f"{stored_key}, not {key}: check SWXSOC_MISSION and the "
                                  "swxsoc configuration")
            head = self._client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            # not chained: botocore's own text is not redacted, so it stays out of logs
            raise self._failure(f"cannot upload to {where}", exc) from None
        algorithm = confirm_stored(cdf_path, StoredObject.from_head(head), where, sent)
        logger.debug("%s: %d bytes confirmed (%s)", where, cdf_path.stat().st_size,
                     f"{algorithm} checksum" if algorithm else "size only")
        return UploadReceipt(self.bucket, key)

    def stored(self, key: str) -> StoredObject | None:
        """What the bucket holds at ``key`` (size, checksums), None when nothing; an endpoint,
        bucket or credential that cannot be used raises ``UploadUnavailableError``."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._failure(f"cannot look up s3://{self.bucket}/{key}", exc) from None
        except (BotoCoreError, Boto3Error) as exc:
            raise self._failure(f"cannot look up s3://{self.bucket}/{key}", exc) from None
        return StoredObject.from_head(head)

    def _failure(self, what: str, exc: Exception) -> UploadError:
        """The error for ``exc``: systemic when the target cannot be used at all; redacted."""
        error = UploadUnavailableError if _unusable_target(exc) else UploadError
        return error(redact(f"{what}: {self._explain(exc)}", self._credentials))

    def fetch(self, key: str, target: Path, sha256: str) -> None:
        """Write the object at ``key`` to ``target`` (atomically, and only when its bytes
        have ``sha256``, the digest its PROCESSED row recorded); raise ``UploadError``."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{self.bucket}/{key}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(target) as temporary:
                self._client.download_file(self.bucket, key, str(temporary))
                check_fetched(temporary, sha256, where)
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise self._failure(f"cannot fetch {where}", exc) from None

    def _explain(self, exc: Exception) -> str:
        """Say what went wrong and what to fix, by exception class and S3 error code."""
        from boto3.exceptions import S3UploadFailedError
        from botocore import exceptions as bce

        if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, bce.ClientError):
            exc = exc.__context__  # the transfer manager re-raises S3's answer inside it
        if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
            return ("no usable AWS credentials: set AWS_ACCESS_KEY_ID and "
                    f"AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), {RETRY_HINT}")
        if isinstance(exc, bce.ConnectionError | bce.HTTPClientError):
            return (f"cannot reach the S3 endpoint {self.endpoint} ({type(exc).__name__}): "
                    f"check the network and AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3, {RETRY_HINT}")
        if isinstance(exc, bce.ClientError):
            error = exc.response.get("Error", {})
            return _explain_code(str(error.get("Code", "")), str(error.get("Message", "")),
                                 self.bucket)
        return f"{type(exc).__name__}: {exc}, {RETRY_HINT}"


# S3 error codes that say the bucket or the credentials cannot be used at all
_UNUSABLE_CODES = frozenset({
    "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "403", "InvalidAccessKeyId",
    "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "PermanentRedirect",
    "AuthorizationHeaderMalformed", "301"})


def _unusable_target(exc: Exception) -> bool:
    """Whether every other CDF would fail the same way: endpoint, bucket or credentials."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as bce

    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, bce.ClientError):
        exc = exc.__context__
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError
                  | bce.ConnectionError | bce.HTTPClientError):
        return True
    return (isinstance(exc, bce.ClientError)
            and str(exc.response.get("Error", {}).get("Code", "")) in _UNUSABLE_CODES)


def redact(text: str, credentials: Any) -> str:
    """``text`` with every value of ``credentials`` (botocore Credentials or None) starred."""
    if credentials is None:
        return text
    frozen = credentials.get_frozen_credentials()
    for secret in (frozen.access_key, frozen.secret_key, frozen.token):
        if secret:
            text = text.replace(secret, "***")
    return text


def _explain_code(code: str, message: str, bucket: str) -> str:
    if code == "NoSuchBucket":
        return f"bucket {bucket} does not exist: create it or fix --s3-bucket, {RETRY_HINT}"
    if code in ("AccessDenied", "AllAccessDisabled", "403"):
        return ("access denied: the credentials need s3:PutObject and s3:GetObject on "
                f"bucket {bucket}, {RETRY_HINT}")
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"):
        return f"AWS credentials rejected ({code}): fix or refresh them, {RETRY_HINT}"
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
        return f"bucket {bucket} is in another region ({code}): pass --aws-region, {RETRY_HINT}"
    if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
        return (f"the server rejected the checksum ({code}): the file changed in transit, "
                f"{RETRY_HINT}")
    return f"S3 error {code or 'unknown'}: {message}, {RETRY_HINT}"


def check_bucket_name(bucket: str) -> str:
    """Return ``bucket`` if S3 would accept it as a name; else raise ``ConfigError``."""
    if not _BUCKET.match(bucket) or ".." in bucket:
        hint = " (give the name without s3://)" if "/" in bucket else ""
        raise ConfigError(f"--s3-bucket {bucket!r} is not a valid S3 bucket name: 3-63 "
                          f"lowercase letters, digits, '.' or '-'{hint}")
    return bucket


def open_uploader(bucket: str, region: str | None = None) -> Uploader:
    """Build the run's uploader; raise ``MissingDependencyError`` without boto3.

    Touches no network: credentials, endpoint and bucket are exercised by the
    first upload, so their faults fail days (and are retried), not the run.
    """
    check_bucket_name(bucket)
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc
    from swxsoc_reach.upload import sdc

    config = Config(connect_timeout=CONNECT_TIMEOUT_S)
    transfer: Transfer
    push = _import_sdc(bucket) if sdc.is_available() else None
    if push is not None:  # push_science_file makes its client from boto3's default session
        session = sdc.prepare_default_session(region, CONTENT_TYPE)
        client = session.client("s3", config=config)
        transfer, backend = push, "sdc_aws_utils"
    else:
        session = boto3.session.Session(region_name=region)
        client = session.client("s3", config=config)
        transfer, backend = _ManagedTransfer(client, bucket), "boto3"
    uploader = Uploader(bucket, session, client, transfer, backend)
    logger.info("upload: s3://%s via %s (endpoint %s, region %s)", bucket,
                uploader.backend, uploader.endpoint, uploader.region)
    return uploader


def _import_sdc(bucket: str) -> PushScienceFile | None:
    """The sdc_aws_utils back end, or None when the installed library cannot be imported.

    An optional dependency that is installed but broken (its own import fails, e.g. a
    missing dependency of it) must not stop the run: boto3 stores the same key.
    """
    from swxsoc_reach.upload import sdc

    try:
        return sdc.PushScienceFile(bucket)
    except ImportError as exc:
        logger.warning("upload: sdc_aws_utils is installed but cannot be imported (%s: %s); "
                       "uploading with boto3 to the same keys", type(exc).__name__, exc)
        return None


class _ManagedTransfer:
    """boto3's managed transfer: single PUT below 8 MiB, parallel multipart above."""

    def __init__(self, client: Any, bucket: str) -> None:
        from boto3.s3.transfer import TransferConfig

        self._client = client
        self._bucket = bucket
        self._config = TransferConfig(multipart_threshold=PART_SIZE,
                                      multipart_chunksize=PART_SIZE, max_concurrency=4)
        self._extra = {"ContentType": CONTENT_TYPE, "ChecksumAlgorithm": CHECKSUM_ALGORITHM}

    def __call__(self, path: Path, key: str) -> str:
        self._client.upload_file(str(path), self._bucket, key, ExtraArgs=self._extra,
                                 Config=self._config)
        return key
