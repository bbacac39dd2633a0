def signed_headers(message_id, body):
    """Headers as Svix signs a delivery (Standard Webhooks, signature scheme v1).

    The signature is the base64 HMAC-SHA256 of "id.timestamp.body", keyed with the
    base64-decoded part of the whsec_ secret. The message id is the payload id: the same
    for both firings of a reviewed session-open, so a receiver that deduplicates on
    svix-id, as Svix recommends, records the event once.
    """
    secret = SVIX_SECRET[len("whsec_") :] if SVIX_SECRET.startswith("whsec_") else SVIX_SECRET
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:
        fail("SVIX_SECRET is not a signing secret: expected whsec_ followed by base64")
    timestamp = str(int(time.time()))
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "svix-id": message_id,
        "svix-timestamp": timestamp,
        "svix-signature": "v1," + signature,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
