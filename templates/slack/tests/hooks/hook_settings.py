"""The slack hooks' settings in their tests (a Slack incoming webhook).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

import re

URL = "https://hooks.slack.com/services/T0TEST/B0TEST/test-webhook-secret-1f9c"
SETTINGS = {"SLACK_WEBHOOK_URL": URL}
SECRET_SETTING = "SLACK_WEBHOOK_URL"  # the URL is the secret; without it nothing is sent
SECRETS = ["test-webhook-secret"]  # in the URL: a failure names the host only
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover


def texts(request):
    """Every mrkdwn text of a Block Kit message, the fallback text first."""
    message = request.json()
    found = [message["text"]]
    for block in message["blocks"]:
        found += [block["text"]["text"]] if "text" in block else []
        found += [element["text"] for element in block.get("elements", [])]
    return found


def event_id(request):
    """The event id a message shows in its context line (Slack cannot dedupe on it)."""
    [found] = re.findall(r"event id `([^`]+)`", texts(request)[-1])
    return found
