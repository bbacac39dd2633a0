"""Each template's request, checked against the vendor's own SDK sending the same event.

A template's generated tests check its hooks against what those tests expect; a wrong path,
header or body shape would pass as long as both agreed. Here the hook runs for real (a
subprocess, through the capture) and then the vendor's Python SDK sends the same event
through the same capture, and the two requests must agree on what the vendor's service
reads: method, URL path and query, the auth scheme, content type and encoding, and the
body's structure (field names and types, and values whose format matters, such as times).

The SDKs are test dependencies only (the `test` extra); the hooks never import them.
svix-compat is checked against `svix` in test_svix_schemas.py and test_scaffold.py; the
vendors without a Python SDK are checked against their documented schemas in
test_template_schemas.py.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest

from hoophooks_dk.capture.capture import Capture, CapturedRequest
from hoophooks_dk.emulator import Emulator, FireResult
from hoophooks_dk.scaffold.writer import init


@pytest.fixture(scope="module")
def capture() -> Iterator[Capture]:
    with Capture() as running:
        yield running


@pytest.fixture
def sdk_env(capture: Capture, monkeypatch: pytest.MonkeyPatch) -> Capture:
    """This process's proxy and CA variables pointed at the capture, for SDKs that read
    them (requests-based ones); the others are given the proxy and CA explicitly."""
    for name, value in capture.environ().items():
        monkeypatch.setenv(name, value)
    return capture


def fire(
    template: str,
    settings: dict[str, str],
    capture: Capture,
    tmp_path: Path,
    event: str = "session-open",
    **fields: Any,
) -> tuple[FireResult, list[CapturedRequest]]:
    """``template``'s hook for ``event``, run as Hoop runs it, with ``settings``."""
    repo = tmp_path / template
    init(repo, template)
    capture.reset()
    env = {**os.environ, **settings}
    result = Emulator(repo, capture=capture, env=env).fire(event, **fields)
    assert result.ok, result.output
    return result, capture.requests


def sdk_requests(capture: Capture, before: int) -> list[CapturedRequest]:
    capture.wait_idle()
    return capture.requests_since(before)


def path_and_query(request: CapturedRequest) -> tuple[str, str]:
    parts = urlsplit(request.url)
    return parts.path, parts.query


def scheme(request: CapturedRequest, header: str = "Authorization") -> str:
    return (request.header(header) or "").split(" ", 1)[0]


def media_type(request: CapturedRequest) -> str:
    return (request.header("Content-Type") or "").split(";")[0].strip().lower()


def is_json(media: str) -> bool:
    """application/json, or a vendor type with the +json structured suffix (RFC 6839)."""
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def decoded(request: CapturedRequest) -> bytes:
    if request.header("Content-Encoding") == "gzip":
        return gzip.decompress(request.body)
    return request.body


def shape(value: Any) -> Any:
    """A JSON value's structure: objects keep their keys, leaves become their type name."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


# --- datadog-logs against datadog-api-client (LogsApi.submit_log) ----------------------------


DATADOG = {"DATADOG_API_KEY": "sdk-test-dd-key", "DATADOG_SITE": "datadoghq.eu"}


def test_datadog_logs_matches_datadog_api_client(capture, tmp_path):
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.logs_api import LogsApi
    from datadog_api_client.v2.model.http_log import HTTPLog
    from datadog_api_client.v2.model.http_log_item import HTTPLogItem

    _, [hook] = fire("datadog-logs", DATADOG, capture, tmp_path)
    [log] = hook.json()

    config = Configuration()
    config.api_key["apiKeyAuth"] = DATADOG["DATADOG_API_KEY"]
    config.server_variables["site"] = DATADOG["DATADOG_SITE"]
    config.proxy, config.ssl_ca_cert = capture.proxy_url, capture.ca_path
    # urllib3 does not turn the proxy URL's credentials into a header: the port lock's
    # secret goes by hand, as a hook's client would send it from the URL.
    config.proxy_headers = {"Proxy-Authorization": capture.proxy_authorization}
    before = capture.mark()
    with ApiClient(config) as client:
        LogsApi(client).submit_log(HTTPLog([HTTPLogItem(**log)]))
    [sdk] = sdk_requests(capture, before)

    assert (hook.method, urlsplit(hook.url).netloc) == (sdk.method, urlsplit(sdk.url).netloc)
    assert path_and_query(hook) == path_and_query(sdk) == ("/api/v2/logs", "")
    assert hook.header("DD-API-KEY") == sdk.header("DD-API-KEY") == DATADOG["DATADOG_API_KEY"]
    assert media_type(hook) == media_type(sdk) == "application/json"
    assert hook.header("Content-Encoding") == sdk.header("Content-Encoding")
    sdk_logs = json.loads(decoded(sdk))
    assert shape(hook.json()) == shape(sdk_logs)
    assert hook.json() == sdk_logs


# --- elastic against elasticsearch (create with an id) ---------------------------------------


ELASTIC = {
    "ELASTIC_URL": "https://elastic.sdk.test:9200",
    "ELASTIC_API_KEY": "c2RrOnRlc3Qta2V5",
    "ELASTIC_INDEX": "hoop-sessions-sdk",
}


def test_elastic_matches_the_elasticsearch_client(capture, tmp_path):
    from elasticsearch import Elasticsearch

    result, [hook] = fire("elastic", ELASTIC, capture, tmp_path)
    document = hook.json()

    before = capture.mark()
    created = {"_index": ELASTIC["ELASTIC_INDEX"], "_id": result.id, "result": "created"}
    # The client refuses a server that does not say it is Elasticsearch, after sending.
    capture.router.route(method="PUT", path__regex=r"/_create/").respond(
        201, json=created, headers={"X-Elastic-Product": "Elasticsearch"}
    )
    # elastic-transport ignores proxy variables: it is pointed at the capture itself, with
    # the port lock's secret by hand (credentials in the URL would become its Authorization).
    address = capture.proxy_url.rpartition("@")[2]
    client = Elasticsearch(
        f"http://{address}",
        api_key=ELASTIC["ELASTIC_API_KEY"],
        headers={"Proxy-Authorization": capture.proxy_authorization},
    )
    client.create(index=ELASTIC["ELASTIC_INDEX"], id=result.id, document=document)
    [sdk] = sdk_requests(capture, before)

    assert hook.method == sdk.method == "PUT"
    assert path_and_query(hook) == path_and_query(sdk)
    assert path_and_query(sdk)[0] == f"/{ELASTIC['ELASTIC_INDEX']}/_create/{result.id}"
    assert hook.header("Authorization") == sdk.header("Authorization")
    assert scheme(sdk) == "ApiKey"
    assert is_json(media_type(hook)) and is_json(media_type(sdk)), (
        media_type(hook),
        media_type(sdk),
    )
    assert hook.header("Content-Encoding") == sdk.header("Content-Encoding") is None
    assert shape(hook.json()) == shape(sdk.json())
    assert hook.json() == sdk.json()


# --- microsoft-sentinel against azure-monitor-ingestion (LogsIngestionClient.upload) ---------


SENTINEL = {
    "AZURE_TENANT_ID": "11111111-2222-3333-4444-555555555555",
    "AZURE_CLIENT_ID": "66666666-7777-8888-9999-000000000000",
    "AZURE_CLIENT_SECRET": "sdk-test-client-secret",
    "SENTINEL_INGESTION_ENDPOINT": "https://hoop-dce-sdk.westeurope-1.ingest.monitor.azure.com",
    "SENTINEL_DCR_IMMUTABLE_ID": "dcr-0123456789abcdef0123456789abcdef",
    "SENTINEL_STREAM": "Custom-HoopSessions_CL",
}
TOKEN = "sdk-test-access-token"


class FakeCredential:
    """An azure-core TokenCredential: the token endpoint is not the SDK under test, but
    the scope the SDK asks for is what the hook must ask Entra ID for."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any):
        from azure.core.credentials import AccessToken

        self.scopes += scopes
        return AccessToken(TOKEN, int(datetime.datetime.now().timestamp()) + 3600)


def test_microsoft_sentinel_matches_azure_monitor_ingestion(capture, sdk_env, tmp_path):
    from azure.monitor.ingestion import LogsIngestionClient

    capture.reset()
    token_path = r"/oauth2/v2\.0/token$"
    reply = {"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN}
    repo = tmp_path / "microsoft-sentinel"
    init(repo, "microsoft-sentinel")
    capture.router.route(method="POST", path__regex=token_path).respond(200, json=reply)
    env = {**os.environ, **SENTINEL}
    result = Emulator(repo, capture=capture, env=env).fire("session-open")
    assert result.ok, result.output
    token_request, hook = capture.requests
    records = json.loads(gzip.decompress(hook.body))

    capture.router.route(method="POST", path__regex="/dataCollectionRules/").respond(204)
    credential = FakeCredential()
    client = LogsIngestionClient(SENTINEL["SENTINEL_INGESTION_ENDPOINT"], credential)
    before = capture.mark()
    client.upload(SENTINEL["SENTINEL_DCR_IMMUTABLE_ID"], SENTINEL["SENTINEL_STREAM"], records)
    [sdk] = sdk_requests(capture, before)

    assert hook.method == sdk.method == "POST"
    assert urlsplit(hook.url).netloc == urlsplit(sdk.url).netloc
    assert path_and_query(hook) == path_and_query(sdk)
    assert hook.header("Authorization") == sdk.header("Authorization") == "Bearer " + TOKEN
    assert media_type(hook) == media_type(sdk) == "application/json"
    assert hook.header("Content-Encoding") == sdk.header("Content-Encoding") == "gzip"
    assert shape(json.loads(decoded(hook))) == shape(json.loads(decoded(sdk)))
    assert json.loads(decoded(sdk)) == records
    # The hook asked Entra ID for the very scope the SDK asks its credential for.
    assert parse_qs(token_request.text)["scope"] == credential.scopes
    record = records[0]
    moment = datetime.datetime.fromisoformat(record["TimeGenerated"].replace("Z", "+00:00"))
    assert moment.tzinfo is not None  # TimeGenerated: ISO 8601 with its zone, as Azure reads it


# --- aws-cloudwatch-logs against botocore (PutLogEvents, Signature Version 4) ----------------


AWS = {
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIASDKTEST000000000",
    "AWS_SECRET_ACCESS_KEY": "sdk-test-secret-access-key",
    "CLOUDWATCH_LOG_GROUP": "/hoop/sdk-sessions",
    "CLOUDWATCH_LOG_STREAM": "sdk-stream",
}


@pytest.mark.parametrize("session_token", ["", "sdk-test-session-token"])
def test_aws_cloudwatch_logs_signs_byte_for_byte_as_botocore(capture, tmp_path, session_token):
    import botocore.session
    from botocore.config import Config

    settings = AWS | {"AWS_SESSION_TOKEN": session_token}
    _, [hook] = fire("aws-cloudwatch-logs", settings, capture, tmp_path)
    # botocore signs at the hook's own second, read back from its X-Amz-Date.
    signed_at = datetime.datetime.strptime(hook.header("X-Amz-Date"), "%Y%m%dT%H%M%SZ")
    signed_at = signed_at.replace(tzinfo=datetime.UTC)

    client = botocore.session.get_session().create_client(
        "logs",
        region_name=AWS["AWS_REGION"],
        aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=session_token or None,
        config=Config(proxies={"https": capture.proxy_url}, retries={"max_attempts": 1}),
        verify=capture.ca_path,
    )
    before = capture.mark()
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        client.put_log_events(**hook.json())  # the same parameters, in the same order
    [sdk] = sdk_requests(capture, before)

    assert (
        (hook.method, hook.url)
        == (sdk.method, sdk.url)
        == ("POST", "https://logs.eu-west-1.amazonaws.com/")
    )
    assert hook.body == sdk.body  # byte for byte: the signature covers the body's hash
    for name in (
        "Content-Type",
        "Content-Encoding",
        "X-Amz-Target",
        "X-Amz-Date",
        "X-Amz-Security-Token",
    ):
        assert hook.header(name) == sdk.header(name), name
    assert hook.header("Authorization") == sdk.header("Authorization")
    timestamp = hook.json()["logEvents"][0]["timestamp"]
    assert isinstance(timestamp, int) and abs(timestamp / 1000 - signed_at.timestamp()) < 5


# --- otlp-logs against the OpenTelemetry OTLP/HTTP log exporter ------------------------------


OTLP = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel-collector.sdk.test:4318",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20sdk-token",
    "OTEL_SERVICE_NAME": "hoop-gateway",
    "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=sdk",
}


def plain(value) -> Any:
    """A protobuf AnyValue as the Python value an SDK attribute holds."""
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    return getattr(value, kind)


OTLP_EVENTS = {
    "session-open": {"connection_reviewers": ["dba-team"]},
    "session-close": {"exit_code": 2, "output": "ERROR: permission denied"},
}


@pytest.mark.parametrize("event", OTLP_EVENTS)
def test_otlp_logs_decodes_to_the_same_records_as_the_sdk_exporter(
    capture, sdk_env, tmp_path, event
):
    from google.protobuf import json_format
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    _, [hook] = fire("otlp-logs", OTLP, capture, tmp_path, event, **OTLP_EVENTS[event])
    # The JSON encoding must parse as the OTLP protobuf: unknown or mistyped fields fail.
    ours = json_format.Parse(hook.body, ExportLogsServiceRequest())
    [resource_logs] = ours.resource_logs
    [scope_logs] = resource_logs.scope_logs
    [record] = scope_logs.log_records

    resource = {kv.key: plain(kv.value) for kv in resource_logs.resource.attributes}
    provider = LoggerProvider(resource=Resource(resource))
    exporter = OTLPLogExporter(
        endpoint=OTLP["OTEL_EXPORTER_OTLP_ENDPOINT"] + "/v1/logs",
        headers={"Authorization": "Bearer sdk-token"},
        certificate_file=capture.ca_path,
    )
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    before = capture.mark()
    provider.get_logger(scope_logs.scope.name).emit(
        LogRecord(
            timestamp=record.time_unix_nano,
            observed_timestamp=record.observed_time_unix_nano,
            severity_number=SeverityNumber(record.severity_number),
            severity_text=record.severity_text,
            body=plain(record.body),
            attributes={kv.key: plain(kv.value) for kv in record.attributes},
            event_name=record.event_name,
        )
    )
    provider.shutdown()
    [sdk] = sdk_requests(capture, before)
    theirs = ExportLogsServiceRequest.FromString(sdk.body)

    assert hook.method == sdk.method == "POST"
    assert path_and_query(hook) == path_and_query(sdk) == ("/v1/logs", "")
    assert hook.header("Authorization") == sdk.header("Authorization") == "Bearer sdk-token"
    assert (media_type(hook), media_type(sdk)) == ("application/json", "application/x-protobuf")
    assert hook.header("Content-Encoding") == sdk.header("Content-Encoding")  # none by default
    [sdk_resource_logs] = theirs.resource_logs
    [sdk_scope_logs] = sdk_resource_logs.scope_logs
    [sdk_record] = sdk_scope_logs.log_records
    assert sdk_resource_logs.resource == resource_logs.resource
    assert sdk_scope_logs.scope.name == scope_logs.scope.name
    assert sdk_record == record  # every field, every attribute's type (int64, bool, array)
    assert record.time_unix_nano > 1_600_000_000 * 10**9  # nanoseconds, not milliseconds
    kinds = {kv.key: kv.value.WhichOneof("value") for kv in record.attributes}
    if event == "session-open":
        assert kinds["hoop.input.truncated"] == "bool_value"
        review_groups = kinds["hoop.connection.review_groups"]
        assert review_groups == kinds["hoop.connection.env_keys"] == "array_value"
    else:
        assert kinds["process.exit.code"] == "int_value"
        assert record.severity_number == SeverityNumber.ERROR.value


def test_is_json_reads_structured_suffixes():
    assert is_json("application/json") and is_json("application/vnd.elasticsearch+json")
    assert not is_json("application/x-protobuf") and not is_json("text/plain")
