def main():
    if not SPLUNK_HEC_TOKEN:
        fail(
            "SPLUNK_HEC_TOKEN is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    body = {
        "time": round(time.time(), 3),
        "source": SPLUNK_SOURCE,
        "sourcetype": SPLUNK_SOURCETYPE,
        "event": build_event(payload),
    }
    if SPLUNK_INDEX:
        body["index"] = SPLUNK_INDEX
    headers = {
        "Authorization": "Splunk " + SPLUNK_HEC_TOKEN,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", SPLUNK_HEC_URL, json.dumps(body).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SPLUNK_HEC_URL)}: HTTP {status}")
