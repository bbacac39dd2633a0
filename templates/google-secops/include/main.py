def main():
    for name, value in (
        ("SECOPS_API_KEY", SECOPS_API_KEY),
        ("SECOPS_FEED_SECRET", SECOPS_FEED_SECRET),
    ):
        if not value:
            fail(f"{name} is not set: edit it at the top of this hook or set it in the environment")
    if not SECOPS_FEED_URL.endswith(":importPushLogs"):
        fail("SECOPS_FEED_URL is not a webhook feed's endpoint URL (one ends in :importPushLogs)")
    payload = read_payload()
    event = build_event(payload)
    # Both keys go in headers, not in the URL's ?key=, so no log of a URL shows them.
    headers = {
        "X-goog-api-key": SECOPS_API_KEY,
        "X-Webhook-Access-Key": SECOPS_FEED_SECRET,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", SECOPS_FEED_URL, json.dumps(event).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SECOPS_FEED_URL)}: HTTP {status}")
