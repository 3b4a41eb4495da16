"""UDL credentials: the ``Authorization`` header value, from the environment or AWS.

historical-download.md "Credentials", in order: ``BASICAUTH`` as it is; else the
JSON ``SecretString`` of the Secrets Manager secret ``SECRET_ARN_UDL`` (field
``basicauth``), which is then exported as ``BASICAUTH`` too; else a
``CredentialsError`` naming both variables (exit 2). The value is wrapped so it
never shows in a repr, a log line, an exception or a file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import MutableMapping

from swxsoc_reach.errors import CredentialsError, MissingDependencyError

logger = logging.getLogger(__name__)

ENV_BASICAUTH = "BASICAUTH"
ENV_SECRET_ARN = "SECRET_ARN_UDL"
SECRET_FIELD = "basicauth"


class Credential:
    """An ``Authorization`` header value that hides itself from repr, str and logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        value = value.strip()
        if not value or any(ch in value for ch in "\r\n\0"):
            raise CredentialsError("the UDL credential is empty or holds a line break")
        self._value = value

    @property
    def header_value(self) -> str:
        """The value to send as the ``Authorization`` header (and nowhere else)."""
        return self._value

    def __repr__(self) -> str:
        return "Credential(<hidden>)"

    __str__ = __repr__


def resolve_credential(
    aws_region: str | None = None, environ: MutableMapping[str, str] | None = None
) -> Credential:
    """Find the UDL credential: ``BASICAUTH``, else Secrets Manager, else fail (exit 2)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_BASICAUTH, "").strip():
        logger.debug("UDL credential from %s", ENV_BASICAUTH)
        return Credential(env[ENV_BASICAUTH])
    arn = env.get(ENV_SECRET_ARN, "").strip()
    if not arn:
        raise CredentialsError(
            f"no UDL credentials: set {ENV_BASICAUTH} (the Authorization header value, "
            f"'Basic <token>') or {ENV_SECRET_ARN} (a Secrets Manager secret whose JSON "
            f"has the field '{SECRET_FIELD}')"
        )
    credential = Credential(_read_secret(arn, aws_region))
    env[ENV_BASICAUTH] = credential.header_value
    logger.debug("UDL credential from Secrets Manager secret %s; exported as %s",
                 arn, ENV_BASICAUTH)
    return credential


def _read_secret(arn: str, aws_region: str | None) -> str:
    """The ``basicauth`` field of the secret's JSON ``SecretString``."""
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise MissingDependencyError(
            f"{ENV_SECRET_ARN} needs boto3: pip install 'swxsoc_reach[net]' "
            f"(or set {ENV_BASICAUTH})"
        ) from None
    try:
        client = boto3.session.Session(region_name=aws_region).client("secretsmanager")
        answer = client.get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise CredentialsError(f"cannot read {ENV_SECRET_ARN} secret {arn}: {code}") from None
    except BotoCoreError as exc:
        raise CredentialsError(f"cannot read {ENV_SECRET_ARN} secret {arn}: "
                               f"{type(exc).__name__}: {exc}") from None
    try:
        value = json.loads(answer.get("SecretString") or "")[SECRET_FIELD]
    except (ValueError, TypeError, KeyError):
        raise CredentialsError(f"{ENV_SECRET_ARN} secret {arn} is not JSON with a string "
                               f"field '{SECRET_FIELD}'") from None
    if not isinstance(value, str):
        raise CredentialsError(f"{ENV_SECRET_ARN} secret {arn}: field '{SECRET_FIELD}' "
                               "is not a string")
    return value
