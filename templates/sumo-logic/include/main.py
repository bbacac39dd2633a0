def main():
    if not SUMO_HTTP_SOURCE_URL:
        fail(
            "SUMO_HTTP_SOURCE_URL is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    event = build_event(payload)
    # One JSON object on one line: the source takes each line as one log message. The
    # X-Sumo-* headers override the source's metadata fields for this request only.
    headers = {"Content-Type": "application/json", "User-Agent": "hoop-runbook-hook"}
    metadata = [
        ("X-Sumo-Category", SUMO_CATEGORY),
        ("X-Sumo-Name", SUMO_NAME),
        ("X-Sumo-Host", SUMO_HOST),
    ]
    headers.update((name, value) for name, value in metadata if value)
    status = deliver("POST", SUMO_HTTP_SOURCE_URL, json.dumps(event).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SUMO_HTTP_SOURCE_URL)}: HTTP {status}")
