def main():
    if not SLACK_WEBHOOK_URL:
        fail(
            "SLACK_WEBHOOK_URL is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    message = build_message(payload)
    headers = {"Content-Type": "application/json", "User-Agent": "hoop-runbook-hook"}
    status = deliver("POST", SLACK_WEBHOOK_URL, json.dumps(message).encode(), headers)
    print(f"{EVENT} {payload['id']} posted to {host_of(SLACK_WEBHOOK_URL)}: HTTP {status}")
