SERVICE = "logs"
TARGET_PREFIX = "Logs_20140328."  # the CloudWatch Logs JSON API's X-Amz-Target prefix


def main():
    for name, value in (
        ("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET_ACCESS_KEY),
    ):
        if not value:
            fail(f"{name} is not set: edit it at the top of this hook or set it in the environment")
    payload = read_payload()
    event = build_event(payload)
    # CloudWatch Logs cannot deduplicate: the id is in the message, for Logs Insights.
    put = {
        "logGroupName": CLOUDWATCH_LOG_GROUP,
        "logStreamName": CLOUDWATCH_LOG_STREAM,
        "logEvents": [{"timestamp": unix_millis(event["time"]), "message": json.dumps(event)}],
    }
    if CLOUDWATCH_CREATE_MISSING.lower() in ("1", "true", "yes"):
        status, reply = call("PutLogEvents", put, accepted=(400,))
        if status == 400:
            if "ResourceNotFoundException" not in reply.decode("utf-8", "replace"):
                fail(f"delivery to {host_of(endpoint())} failed: HTTP 400 {one_line(reply)}")
            create_missing()
            status, reply = call("PutLogEvents", put)
    else:
        status, reply = call("PutLogEvents", put)
    check_accepted(reply)
    print(f"{EVENT} {payload['id']} sent to {host_of(endpoint())}: HTTP {status}")


def create_missing():
    """Create the log group, then the stream; one that already exists is fine."""
    group = {"logGroupName": CLOUDWATCH_LOG_GROUP}
    stream = {"logGroupName": CLOUDWATCH_LOG_GROUP, "logStreamName": CLOUDWATCH_LOG_STREAM}
    for action, body in (("CreateLogGroup", group), ("CreateLogStream", stream)):
        status, reply = call(action, body, accepted=(400,))
        if status == 400 and b"ResourceAlreadyExistsException" not in reply:
            fail(f"{action} in {host_of(endpoint())} failed: HTTP 400 {one_line(reply)}")


def check_accepted(reply):
    """PutLogEvents answers 200 even when it drops an event (too old, too new, expired)."""
    try:
        rejected = json.loads(reply or b"{}").get("rejectedLogEventsInfo")
    except (ValueError, AttributeError):
        return
    if rejected:
        fail(f"CloudWatch Logs accepted the request but dropped the event: {rejected}")


def call(action, body, accepted=()):
    data = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": TARGET_PREFIX + action,
    }
    headers = signed("POST", endpoint(), headers, data)
    headers["User-Agent"] = "hoop-runbook-hook"  # not signed, as the AWS SDKs do
    return exchange("POST", endpoint(), data, headers, accepted)


def endpoint():
    return f"https://logs.{AWS_REGION}.amazonaws.com/"


def signed(method, url, headers, body):
    """``headers`` plus X-Amz-Date, the session token and the Signature Version 4
    Authorization header, computed as botocore does (its SigV4Auth) for this request."""
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    headers = dict(headers, **{"X-Amz-Date": stamp})
    if AWS_SESSION_TOKEN:
        headers["X-Amz-Security-Token"] = AWS_SESSION_TOKEN
    parts = urllib.parse.urlsplit(url)
    canonical = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    canonical["host"] = parts.netloc.lower()
    names = sorted(canonical)
    request = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/~"),
            parts.query,
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{stamp[:8]}/{AWS_REGION}/{SERVICE}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(request.encode()).hexdigest()]
    )
    key = ("AWS4" + AWS_SECRET_ACCESS_KEY).encode()
    for part in (stamp[:8], AWS_REGION, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={AWS_ACCESS_KEY_ID}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers


def unix_millis(stamp):
    """An event time (ISO 8601, UTC) as CloudWatch's milliseconds since the epoch."""
    moment = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (moment - epoch) // datetime.timedelta(milliseconds=1)


def one_line(data):
    return " ".join(data.decode("utf-8", "replace").split())[:200]
