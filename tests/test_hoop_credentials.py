"""Hoop's API address and token, found as Hoop's CLI finds them, the token never shown."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import trustme

from hoophooks_dk.hoopapi.credentials import CredentialsError, resolve

FILE_TOKEN = "eyJhbGciOiJSUzI1NiJ9.file-token.sig"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".hoop").mkdir()
    return tmp_path


def write_config(home: Path, text: str) -> None:
    (home / ".hoop" / "config.toml").write_text(text)


def test_the_command_line_then_the_environment_then_the_file(home):
    write_config(home, f'api_url = "https://file.example"\ntoken = "{FILE_TOKEN}"\n')
    env = {"HOOP_APIURL": "https://env.example/", "HOOP_TOKEN": "env-token"}
    from_file = resolve(environ={}, home=home)
    assert (from_file.api_url, from_file.token) == ("https://file.example", FILE_TOKEN)
    assert from_file.token_from.endswith("config.toml")
    from_env = resolve(environ=env, home=home)
    assert (from_env.api_url, from_env.token, from_env.token_from) == (
        "https://env.example",
        "env-token",
        "HOOP_TOKEN",
    )
    given = resolve("https://flag.example", "flag-token", environ=env, home=home)
    assert (given.api_url, given.token, given.api_url_from) == (
        "https://flag.example",
        "flag-token",
        "--api-url",
    )


def test_tls_settings_come_from_the_file_and_the_environment(home):
    pem = trustme.CA().cert_pem.bytes()
    encoded = base64.b64encode(pem).decode()
    write_config(
        home, f'api_url = "https://h"\ntoken = "t"\ntls_ca = "{encoded}"\nskip_tls_verify = true\n'
    )
    found = resolve(environ={}, home=home)
    assert found.tls_ca == pem.decode() and found.skip_tls_verify
    assert not resolve(environ={"HOOP_TLS_SKIP_VERIFY": "false"}, home=home).skip_tls_verify
    write_config(home, 'api_url = "https://h"\ntoken = "t"\n')
    env = {"HOOP_TLSCA": "base64://" + encoded}
    assert resolve(environ=env, home=home).tls_ca == pem.decode()


def test_what_is_missing_is_named_with_where_the_kit_looked(home):
    with pytest.raises(CredentialsError, match="HOOP_APIURL, api_url in .*--api-url"):
        resolve(environ={}, home=home)
    with pytest.raises(CredentialsError, match="HOOP_TOKEN"):
        resolve(environ={"HOOP_APIURL": "https://h"}, home=home)
    with pytest.raises(CredentialsError, match="not an http"):
        resolve("use.hoop.dev", "t", environ={}, home=home)


def test_a_broken_file_is_named_without_its_values(home):
    write_config(home, f'token = "{FILE_TOKEN}"\napi_url = https://unquoted\n')
    with pytest.raises(CredentialsError) as raised:
        resolve(environ={}, home=home)
    assert "config.toml is not valid TOML" in str(raised.value)
    assert FILE_TOKEN not in str(raised.value)


@pytest.mark.parametrize(
    ("token", "api_key_header"),
    [
        ("hpk_abc", False),  # an API key: a bearer token (apiroutes/auth.go)
        ("xapi-123", True),  # the gateway's key: Api-Key too, as Hoop's CLI sends it
        ("0cd7f941-2bb8-4f9f-93b0-11620d4652ab|secret", True),  # the legacy org|key form
        ("eyJ.jwt.sig", False),
    ],
)
def test_headers_as_hoops_cli_sends_them(token, api_key_header):
    found = resolve("https://h", token, environ={}, home=Path("/nonexistent"))
    headers = found.headers()
    assert headers["Authorization"] == f"Bearer {token}"
    assert ("Api-Key" in headers) is api_key_header
    assert token not in repr(found)
