"""UDL credentials (historical-download.md "Credentials"): BASICAUTH, else the Secrets
Manager secret SECRET_ARN_UDL (a real moto server), else an error naming both."""

from __future__ import annotations

import json

import pytest

from swxsoc_reach.errors import CredentialsError
from swxsoc_reach.udl.credentials import Credential, resolve_credential

VALUE = "Basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3N3b3Jk"


def test_resolve_credential_uses_basicauth_as_it_is() -> None:
    env = {"BASICAUTH": VALUE, "SECRET_ARN_UDL": "arn:never-read"}
    assert resolve_credential(environ=env).header_value == VALUE


def test_resolve_credential_fails_naming_both_variables_when_none_is_set() -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve_credential(environ={"BASICAUTH": "  "})
    assert "BASICAUTH" in str(caught.value) and "SECRET_ARN_UDL" in str(caught.value)


def test_credential_hides_its_value() -> None:
    credential = Credential(VALUE)
    assert VALUE not in repr(credential) and VALUE not in str(credential)
    assert VALUE not in f"{credential} {[credential]}"


def test_credential_rejects_a_line_break_without_showing_the_value() -> None:
    with pytest.raises(CredentialsError) as caught:
        Credential("Basic abc\r\nX-Injected: 1")
    assert "abc" not in str(caught.value)


def test_resolve_credential_reads_secrets_manager_and_exports_basicauth(s3_server) -> None:
    client = s3_server.client("secretsmanager")
    arn = client.create_secret(Name="udl/reach",
                               SecretString=json.dumps({"basicauth": VALUE}))["ARN"]
    env = {"SECRET_ARN_UDL": arn}
    assert resolve_credential("us-east-1", environ=env).header_value == VALUE
    assert env["BASICAUTH"] == VALUE


@pytest.mark.parametrize("secret", ['{"user": "x"}', "not json", '{"basicauth": 3}'])
def test_resolve_credential_rejects_a_secret_without_the_field(s3_server, secret) -> None:
    arn = s3_server.client("secretsmanager").create_secret(
        Name="udl/bad", SecretString=secret)["ARN"]
    with pytest.raises(CredentialsError, match="basicauth"):
        resolve_credential(environ={"SECRET_ARN_UDL": arn})


def test_resolve_credential_names_a_missing_secret(s3_server) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nowhere-AbCdEf"
    with pytest.raises(CredentialsError, match="ResourceNotFoundException"):
        resolve_credential(environ={"SECRET_ARN_UDL": arn})
