SCOPE = "hoop-runbook-hook"


def main():
    url = logs_endpoint()
    payload = read_payload()
    event = build_event(payload)
    number, text = severity(event)
    stamp = unix_nanos(event["time"])
    record = {
        "timeUnixNano": stamp,
        "observedTimeUnixNano": stamp,
        "severityNumber": number,
        "severityText": text,
        "body": any_value(summary(event)),
        # log.record.uid: records with the same uid are duplicates (semantic conventions),
        # so the review double-open and retries collapse to one record.
        "attributes": attributes([("log.record.uid", payload["id"])] + record_attributes(event)),
        "eventName": "hoop." + EVENT.replace("-", "."),
    }
    resource = [("service.name", OTEL_SERVICE_NAME)] + key_values(OTEL_RESOURCE_ATTRIBUTES)
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": attributes(resource)},
                "scopeLogs": [{"scope": {"name": SCOPE}, "logRecords": [record]}],
            }
        ]
    }
    headers = dict(key_values(OTEL_EXPORTER_OTLP_HEADERS))
    headers.update({"Content-Type": "application/json", "User-Agent": "hoop-runbook-hook"})
    status = deliver("POST", url, json.dumps(body).encode(), headers)
    print(f"{EVENT} {payload['id']} exported to {host_of(url)}: HTTP {status}")


def logs_endpoint():
    if OTEL_EXPORTER_OTLP_LOGS_ENDPOINT:
        return OTEL_EXPORTER_OTLP_LOGS_ENDPOINT
    if not OTEL_EXPORTER_OTLP_ENDPOINT:
        fail(
            "OTEL_EXPORTER_OTLP_ENDPOINT is not set: edit it at the top of this hook or set it in the environment"
        )
    return OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/logs"


def key_values(text):
    """ "k=v,k2=v2" as the OTEL_* variables write it, values percent-decoded."""
    pairs = []
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            pairs.append((key.strip(), urllib.parse.unquote(value.strip())))
    return pairs


def attributes(pairs):
    """OTLP KeyValue list; an attribute whose value is null is left out, as the SDKs do."""
    return [{"key": key, "value": any_value(value)} for key, value in pairs if value is not None]


def any_value(value):
    """An OTLP AnyValue in the protobuf JSON mapping (64-bit integers as strings)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [any_value(item) for item in value]}}
    return {"stringValue": str(value)}


def unix_nanos(stamp):
    """An event time (ISO 8601, UTC, milliseconds) as OTLP's nanoseconds, a string."""
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return str((moment - epoch) // datetime.timedelta(microseconds=1) * 1000)
