def main():
    if not SVIX_SECRET:
        fail("SVIX_SECRET is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    body = json.dumps(build_body(payload), separators=(",", ":")).encode()
    headers = signed_headers(payload["id"], body)
    status = deliver("POST", SVIX_ENDPOINT_URL, body, headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(SVIX_ENDPOINT_URL)}: HTTP {status}")
