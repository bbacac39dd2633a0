"""The teams-review hooks' settings in their tests (cards to a Teams webhook).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

URL = "https://example.webhook.office.com/webhookb2/test-webhook-secret-c0de"
HOOP = "https://hoop.example.test"
SETTINGS = {"TEAMS_WEBHOOK_URL": URL, "HOOP_APP_URL": HOOP}
SECRET_SETTING = "TEAMS_WEBHOOK_URL"  # the URL is the secret; without it nothing is sent
SECRETS = ["test-webhook-secret"]  # in the URL: a failure names the host only
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py
DEFAULTS = ["HOOP_APP_URL"]
# Only the session-open hook sends, a card for a session on a connection with review-plugin
# groups; the close hook never does (test_hoop_hooks.py checks it).
EVENTS = ("session-open",)
FIRE_FIELDS = {"connection_reviewers": ["dba-team"]}


def card_of(request):
    """The Adaptive Card inside a Teams message."""
    message = request.json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def facts_of(card):
    [fact_set] = [block for block in card["body"] if block["type"] == "FactSet"]
    return {fact["title"]: fact["value"] for fact in fact_set["facts"]}


def event_id(request):
    """The event id a card shows (Teams cannot dedupe on it)."""
    return facts_of(card_of(request))["Event id"]
