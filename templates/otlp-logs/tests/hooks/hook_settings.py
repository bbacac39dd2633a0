"""The otlp-logs hooks' settings in their tests (an OpenTelemetry Collector's OTLP/HTTP).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

COLLECTOR = "https://otel-collector.example.test:4318"
URL = COLLECTOR + "/v1/logs"
TOKEN = "test-otlp-token-61d0"
SETTINGS = {
    "OTEL_EXPORTER_OTLP_ENDPOINT": COLLECTOR,
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "",
    "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{TOKEN},X-Scope-OrgID=platform",
    "OTEL_SERVICE_NAME": "hoop-gateway",
    "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=test",
}
SECRET_SETTING = "OTEL_EXPORTER_OTLP_ENDPOINT"  # without it the hooks send nothing
SECRETS = [TOKEN]  # the header's token never shows in a hook's output
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py: the endpoint's /v1/logs
DEFAULTS = ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"]


def only_record(request):
    """(resource attributes, scope, the one log record) of an export request."""
    [resource_logs] = request.json()["resourceLogs"]
    [scope_logs] = resource_logs["scopeLogs"]
    [record] = scope_logs["logRecords"]
    return values(resource_logs["resource"]["attributes"]), scope_logs["scope"], record


def values(attributes):
    """An OTLP attribute list as a dict of plain values (intValue back to int)."""
    return {item["key"]: plain(item["value"]) for item in attributes}


def plain(value):
    [(kind, inner)] = value.items()
    if kind == "arrayValue":
        return [plain(item) for item in inner.get("values", [])]
    return int(inner) if kind == "intValue" else inner


def event_id(request):
    """The record's log.record.uid: the semantic convention for a duplicate-marking id."""
    return values(only_record(request)[2]["attributes"])["log.record.uid"]
