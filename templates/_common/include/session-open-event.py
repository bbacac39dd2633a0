def build_event(payload):
    """The event the collector gets: what Hoop sent, minus the secrets.

    connection_envs holds the connection's credentials, so only its keys are kept;
    input_file is this script's own source and is dropped. Hoop sends {} and [] for a
    connection without secrets or review groups (null only where Go writes a nil map or
    slice), so all three are read as empty. connection_reviewers is the connection's
    legacy review-plugin groups, sent on every session of that connection: it says
    nothing about whether this session is reviewed, and is [] for access-request reviews
    (hoophooks_dk's docs/hoop-runtime.md section 4), hence the name review_groups.
    """
    opened = payload.get("event_session_open")
    if not isinstance(opened, dict):
        fail("the payload has no event_session_open: is this the session-open hook?")
    envs = opened.get("connection_envs") or {}
    review_groups = opened.get("connection_reviewers") or []
    text = opened.get("input") or ""
    return {
        "event": EVENT,
        "id": payload["id"],
        "sid": payload["sid"],
        "time": now(),
        "verb": opened.get("verb"),
        "user_email": opened.get("user_email"),
        "connection": {
            "name": opened.get("connection_name"),
            "type": opened.get("connection_type"),
            "subtype": opened.get("connection_subtype"),
            "env_keys": sorted(envs),
            "review_groups": review_groups,
        },
        "input": text[:MAX_TEXT],
        "input_truncated": len(text) > MAX_TEXT,
    }
