API_VERSION = "2023-01-01"  # the Logs Ingestion API version Azure's own client sends
TOKENS = {}  # the Entra ID token, fetched once per run: retries reuse it


def main():
    for name, value in (
        ("AZURE_CLIENT_SECRET", AZURE_CLIENT_SECRET),
        ("AZURE_TENANT_ID", AZURE_TENANT_ID),
        ("AZURE_CLIENT_ID", AZURE_CLIENT_ID),
        ("SENTINEL_INGESTION_ENDPOINT", SENTINEL_INGESTION_ENDPOINT),
        ("SENTINEL_DCR_IMMUTABLE_ID", SENTINEL_DCR_IMMUTABLE_ID),
    ):
        if not value:
            fail(f"{name} is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    event = build_event(payload)
    # The Logs Ingestion API cannot deduplicate: EventId is the payload id, to query on.
    record = {
        "TimeGenerated": event["time"],
        "EventType": EVENT,
        "EventId": payload["id"],
        "SessionId": payload["sid"],
        "Details": event,
    }
    rule = urllib.parse.quote(SENTINEL_DCR_IMMUTABLE_ID, safe="")
    stream = urllib.parse.quote(SENTINEL_STREAM, safe="")
    url = (
        f"{SENTINEL_INGESTION_ENDPOINT.rstrip('/')}/dataCollectionRules/{rule}"
        f"/streams/{stream}?api-version={API_VERSION}"
    )
    headers = {
        "Authorization": "Bearer " + access_token(),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",  # as azure-monitor-ingestion uploads
        "Accept": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    body = gzip.compress(json.dumps([record]).encode("utf-8"))
    status = deliver("POST", url, body, headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(url)}: HTTP {status}")


def access_token():
    """A token for Azure Monitor from Microsoft Entra ID (client credentials grant)."""
    if "monitor" not in TOKENS:
        tenant = urllib.parse.quote(AZURE_TENANT_ID, safe="")
        url = f"{AZURE_AUTHORITY_HOST.rstrip('/')}/{tenant}/oauth2/v2.0/token"
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": AZURE_CLIENT_ID,
                "client_secret": AZURE_CLIENT_SECRET,
                "scope": SENTINEL_AUDIENCE.rstrip("/") + "/.default",
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": "hoop-runbook-hook",
        }
        _, reply = exchange("POST", url, form, headers)
        try:
            TOKENS["monitor"] = json.loads(reply)["access_token"]
        except (ValueError, KeyError, TypeError):
            fail(f"the token reply from {host_of(url)} has no access_token")
    return TOKENS["monitor"]
