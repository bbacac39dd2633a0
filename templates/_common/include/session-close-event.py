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
