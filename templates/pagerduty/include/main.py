SEVERITIES = ("critical", "error", "warning", "info")  # what the Events API accepts


def main():
    if not PAGERDUTY_ROUTING_KEY:
        fail(
            "PAGERDUTY_ROUTING_KEY is not set: edit it at the top of this hook or set it in the environment"
        )
    if severity() not in SEVERITIES:
        fail(f"{EVENT} severity {severity()!r} is not one of {', '.join(SEVERITIES)}")
    payload = read_payload()
    event = build_event(payload)
    reason = why_not_alert(event)
    if reason:
        print(f"{EVENT} {payload['id']}: no alert, {reason}")
        return
    # dedup_key is the payload id: the second session-open of a reviewed session, or a
    # retry after a lost answer, lands on the same alert instead of opening another.
    alert = {
        "routing_key": PAGERDUTY_ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": payload["id"],
        "payload": {
            "summary": summary(event)[:1024],  # the Events API's limit
            "source": PAGERDUTY_SOURCE,
            "severity": severity(),
            "timestamp": event["time"],
            "group": "hoop",
            "class": EVENT,
            "custom_details": event,
        },
        "client": "Hoop runbook hook",
    }
    component = event.get("connection", {}).get("name")
    if component:
        alert["payload"]["component"] = component
    headers = {"Content-Type": "application/json", "User-Agent": "hoop-runbook-hook"}
    status = deliver("POST", PAGERDUTY_EVENTS_URL, json.dumps(alert).encode(), headers)
    print(f"{EVENT} {payload['id']} alert sent to {host_of(PAGERDUTY_EVENTS_URL)}: HTTP {status}")
