def slack_message(text, payload):
    """A Block Kit message; the context line carries the event id (the idempotency key)."""
    ids = f"event id `{payload['id']}`, session `{payload['sid']}`"
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": ids}]},
        ],
    }


def escape(text):
    """Slack mrkdwn reads &, < and > as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_block(text):
    """A code block of at most MAX_TEXT characters; a backtick inside could end it early."""
    cut = text[:MAX_TEXT] + ("\n[cut]" if len(text) > MAX_TEXT else "")
    return "```" + escape(cut.replace("`", "'")) + "```"
