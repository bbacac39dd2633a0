def main():
    if not DATADOG_API_KEY:
        fail(
            "DATADOG_API_KEY is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    event = build_event(payload)
    log = {
        "ddsource": DATADOG_SOURCE,
        "ddtags": ",".join(tags(event)),
        "service": DATADOG_SERVICE,
        "message": summary(event),
        "hoop": event,
    }
    url = f"https://http-intake.logs.{DATADOG_SITE}/api/v2/logs"
    headers = {
        "DD-API-KEY": DATADOG_API_KEY,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", url, json.dumps([log]).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(url)}: HTTP {status}")
