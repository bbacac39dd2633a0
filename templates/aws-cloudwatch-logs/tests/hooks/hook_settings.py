"""The aws-cloudwatch-logs hooks' settings in their tests (CloudWatch Logs, eu-west-1).

Written by `hookdk init`: conftest.py pins SETTINGS for every test; test_hoop_hooks.py
and the shared test_delivery.py read the rest.
"""

import json

REGION = "eu-west-1"
URL = f"https://logs.{REGION}.amazonaws.com/"
ACCESS_KEY_ID = "AKIATESTKEY000000000"
SECRET_ACCESS_KEY = "test-secret-access-key-9f3e"
GROUP, STREAM = "/hoop/test-sessions", "test-stream"
SETTINGS = {
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_SESSION_TOKEN": "",
    "CLOUDWATCH_LOG_GROUP": GROUP,
    "CLOUDWATCH_LOG_STREAM": STREAM,
    "CLOUDWATCH_CREATE_MISSING": "false",
}
SECRET_SETTING = "AWS_SECRET_ACCESS_KEY"  # without it the hooks send nothing
ROUTE = {"method": "POST", "url": URL}  # test_delivery.py makes it fail, then recover
# left to the hooks' defaults in test_delivery.py (AWS_REGION is not: hookdk.toml sets it)
DEFAULTS = [
    "AWS_SESSION_TOKEN",
    "CLOUDWATCH_LOG_GROUP",
    "CLOUDWATCH_LOG_STREAM",
    "CLOUDWATCH_CREATE_MISSING",
]
TARGET = "Logs_20140328."  # X-Amz-Target: this prefix, then the action


def action_route(action):
    """A route for one CloudWatch Logs action: they all POST to the same URL."""
    return {"method": "POST", "url": URL, "headers": {"X-Amz-Target": TARGET + action}}


def only_event(request):
    """The one log event of a PutLogEvents request, its message parsed."""
    body = request.json()
    assert (body["logGroupName"], body["logStreamName"]) == (GROUP, STREAM)
    [log_event] = body["logEvents"]
    return log_event["timestamp"], json.loads(log_event["message"])


def event_id(request):
    """The id inside the logged message: `filter id = "..."` in Logs Insights."""
    return only_event(request)[1]["id"]
