# --- the same in every hook: payload, delivery with bounded retry, failure ------------


def read_payload():
    try:
        return json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except KeyError:
        fail("HOOP_RUNBOOK_HOOK_PAYLOAD is not set: Hoop sets it when it runs the hook")
    except ValueError as error:
        fail(f"HOOP_RUNBOOK_HOOK_PAYLOAD is not JSON: {error}")


def deliver(method, url, body, headers, accepted=()):
    """Send one request and return the HTTP status (see exchange)."""
    return exchange(method, url, body, headers, accepted)[0]


def exchange(method, url, body, headers, accepted=()):
    """Send one request and return (HTTP status, reply body); retry what a retry can fix.

    Network errors, timeouts, 408, 429 and 5xx are retried, at most HOOK_ATTEMPTS times
    and never past HOOK_DEADLINE_SECONDS; other 4xx are not (the request itself is
    wrong). Statuses in ``accepted`` count as delivered. When every attempt failed the
    hook exits 1 with one line naming the host (never the full URL: it may hold a
    secret) and the last error.
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        fail("the URL setting is not an http(s) URL (check the settings at the top)")
    attempts, reason = 0, "no attempt was made"
    while attempts < HOOK_ATTEMPTS:
        if seconds_left() < 1:
            reason += " (out of time)"
            break
        attempts += 1
        # a fresh Request each time: urllib rewrites one in place when it uses a proxy
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            timeout = min(HOOK_TIMEOUT_SECONDS, seconds_left())
            with urllib.request.urlopen(request, timeout=timeout) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as error:
            if error.code in accepted:
                return error.code, error.read()
            reason = f"HTTP {error.code} {excerpt(error)}".rstrip()
            if error.code < 500 and error.code not in (408, 429):
                break
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            reason = str(getattr(error, "reason", error)) or type(error).__name__
        if attempts < HOOK_ATTEMPTS:
            time.sleep(max(0, min(HOOK_RETRY_DELAY_SECONDS * attempts, seconds_left() - 1)))
    fail(f"delivery to {host_of(url)} failed after {attempts} attempt(s): {reason}")


def seconds_left():
    return HOOK_DEADLINE_SECONDS - (time.monotonic() - STARTED)


def excerpt(error):
    """The start of an error's body on one line, for Hoop's log of this hook's output."""
    try:
        data = error.read()
    except Exception:  # best effort: the status already says what went wrong
        data = b""
    return " ".join(data.decode("utf-8", "replace").split())[:200]


def host_of(url):
    return urllib.parse.urlsplit(url).hostname or "?"


def now():
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def fail(reason):
    """Exit 1 with one line: Hoop records the exit code and this output, nothing else."""
    print(f"{EVENT} hook failed: {reason}", file=sys.stderr)
    sys.exit(1)
