"""Hoop session-close hook: a log to Datadog's logs intake (v2).

Hoop runs this file with python3 once, when a session ends. The payload is the JSON text
in HOOP_RUNBOOK_HOOK_PAYLOAD; its id is the idempotency key of this event.

Rules this file keeps, because of how Hoop runs it:
- standard library only: the agent may have nothing else installed;
- done well inside Hoop's 15 s limit, whatever the receiver does;
- exit non-zero with one line saying why when the event could not be delivered;
- this script's own source (input_file) is never sent anywhere;
- never two opening braces side by side: Hoop reads hook files as Go templates.

Settings: edit the defaults below, or set an environment variable of the same name
wherever the hook's environment provides one (the generated tests do that).
"""

import datetime
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# --- settings -------------------------------------------------------------------------
DATADOG_API_KEY = os.environ.get("DATADOG_API_KEY", "")  # required: an API key
DATADOG_SITE = os.environ.get(
    "DATADOG_SITE", "datadoghq.com"
)  # datadoghq.eu, us5.datadoghq.com, ...
DATADOG_SERVICE = os.environ.get("DATADOG_SERVICE", "hoop")
DATADOG_SOURCE = os.environ.get("DATADOG_SOURCE", "hoop")
DATADOG_TAGS = os.environ.get("DATADOG_TAGS", "")  # extra tags, e.g. "env:prod,team:platform"
HOOK_ATTEMPTS = int(os.environ.get("HOOK_ATTEMPTS", "3"))
HOOK_TIMEOUT_SECONDS = float(os.environ.get("HOOK_TIMEOUT_SECONDS", "3"))
HOOK_RETRY_DELAY_SECONDS = float(os.environ.get("HOOK_RETRY_DELAY_SECONDS", "0.5"))
HOOK_DEADLINE_SECONDS = 12.0  # Hoop gives up at 15 s; stop retrying before that
MAX_TEXT = 10000  # characters of the session's error output forwarded; the rest is cut

EVENT = "session-close"
STARTED = time.monotonic()


def main():
    if not DATADOG_API_KEY:
        fail(
            "DATADOG_API_KEY is not set: edit it at the top of this hook or set it in the environment"
        )
    payload = read_payload()
    event = build_event(payload)
    log = {
        "ddsource": DATADOG_SOURCE,
        "ddtags": ",".join(tags(event)),
        "service": DATADOG_SERVICE,
        "message": summary(event),
        "hoop": event,
    }
    url = f"https://http-intake.logs.{DATADOG_SITE}/api/v2/logs"
    headers = {
        "DD-API-KEY": DATADOG_API_KEY,
        "Content-Type": "application/json",
        "User-Agent": "hoop-runbook-hook",
    }
    status = deliver("POST", url, json.dumps([log]).encode(), headers)
    print(f"{EVENT} {payload['id']} sent to {host_of(url)}: HTTP {status}")


def tag(name, value):
    """One Datadog tag; commas and spaces would split it, so they become underscores."""
    return name + ":" + "_".join(str(value).replace(",", " ").split())


def tags(event):
    found = [tag("event", EVENT), tag("exit_code", event["exit_code"])]
    return found + [t.strip() for t in DATADOG_TAGS.split(",") if t.strip()]


def summary(event):
    return f"session {event['sid']} closed with exit code {event['exit_code']}"


def build_event(payload):
    """The event the collector gets: the session's outcome, never input_file.

    Hoop sends output null (not "") when the session wrote no error output, and exit
    code -2 when it could not read one.
    """
    closed = payload.get("event_session_close")
    if not isinstance(closed, dict):
        fail("the payload has no event_session_close: is this the session-close hook?")
    output = closed.get("output")
    return {
        "event": EVENT,
        "id": payload["id"],
        "sid": payload["sid"],
        "time": now(),
        "exit_code": closed.get("exit_code"),
        "output": output[:MAX_TEXT] if output is not None else None,
        "output_truncated": output is not None and len(output) > MAX_TEXT,
    }


# --- the same in every hook: payload, delivery with bounded retry, failure ------------


def read_payload():
    try:
        return json.loads(os.environ["HOOP_RUNBOOK_HOOK_PAYLOAD"])
    except KeyError:
        fail("HOOP_RUNBOOK_HOOK_PAYLOAD is not set: Hoop sets it when it runs the hook")
    except ValueError as error:
        fail(f"HOOP_RUNBOOK_HOOK_PAYLOAD is not JSON: {error}")


def deliver(method, url, body, headers, accepted=()):
    """Send one request and return the HTTP status; retry what a retry can fix.

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
                return reply.status
        except urllib.error.HTTPError as error:
            if error.code in accepted:
                return error.code
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


main()
