def main():
    if not ELASTIC_API_KEY:
        fail(
            "ELASTIC_API_KEY is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    event = build_event(payload)
    document = {"@timestamp": event["time"]}
    document.update(event)
    # _create with the payload id as the document id: a second delivery of the same event
    # (the review double-open, or a retry after a lost answer) gets 409 and changes nothing.
    index = urllib.parse.quote(ELASTIC_INDEX, safe="")
    url = f"{ELASTIC_URL.rstrip('/')}/{index}/_create/{payload['id']}"
    headers = {
        "Authorization": "ApiKey " + ELASTIC_API_KEY,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("PUT", url, json.dumps(document).encode(), headers, accepted=(409,))
    outcome = "already indexed" if status == 409 else "indexed"
    print(f"{EVENT} {payload['id']} {outcome} in {host_of(url)}: HTTP {status}")
