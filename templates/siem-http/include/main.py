def main():
    if not SIEM_TOKEN:
        fail("SIEM_TOKEN is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    event = build_event(payload)
    headers = {
        "Authorization": "Bearer " + SIEM_TOKEN,
        "Content-Type": "application/json",
        "Idempotency-Key": payload["id"],
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", SIEM_URL, json.dumps(event).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SIEM_URL)}: HTTP {status}")
