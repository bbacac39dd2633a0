"""The requests of templates whose vendor ships no Python SDK, against the vendor's docs.

Splunk's HTTP Event Collector, Sumo Logic's HTTP source, Google Security Operations'
webhook feeds and PagerDuty's Events API v2 have no SDK on the package index to compare
with (test_template_sdks.py does that for the others), so their documented formats are
written down as JSON Schemas under schemas/, each citing its documentation's URL, and
every request the hooks make must validate. The schemas are checked too: well formed,
their examples valid, and refusing what the documentation rules out.
"""

from __future__ import annotations

import copy
import datetime
import json
import os
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hoophooks_dk.capture.capture import Capture, CapturedRequest
from hoophooks_dk.emulator import Emulator
from hoophooks_dk.resources import read_schema_text
from hoophooks_dk.scaffold.writer import get_template, init
from hoophooks_dk.schema import validate

SPLUNK = "splunk-hec-event.schema.json"
SUMO = "sumo-logic-http-source.schema.json"
SECOPS = "google-secops-webhook.schema.json"
PAGERDUTY = "pagerduty-event.schema.json"


def headers_of(request: CapturedRequest) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers}


def splunk_document(request: CapturedRequest) -> Any:
    return request.json()


def sumo_document(request: CapturedRequest) -> Any:
    return {"headers": headers_of(request), "lines": request.text.split("\n")}


def secops_document(request: CapturedRequest) -> Any:
    events = [json.loads(line) for line in request.text.split("\n") if line.strip()]
    return {"headers": headers_of(request), "events": events}


def pagerduty_document(request: CapturedRequest) -> Any:
    return request.json()


CASES = {  # template: (schema, the document a request is checked as, close fields)
    "splunk-hec": (SPLUNK, splunk_document, {}),
    "sumo-logic": (SUMO, sumo_document, {}),
    "google-secops": (SECOPS, secops_document, {}),
    "pagerduty": (PAGERDUTY, pagerduty_document, {"exit_code": 1}),  # a clean close sends nothing
}


@pytest.fixture(scope="module")
def sent(tmp_path_factory) -> dict[str, list[CapturedRequest]]:
    """Each template's hooks fired through a reviewed session (open, open, close) and a
    session-open whose input is long, with its demo settings: every request, by template."""
    found: dict[str, list[CapturedRequest]] = {}
    with Capture() as capture:
        for name, (_, _, close_fields) in CASES.items():
            template = get_template(name)
            repo = tmp_path_factory.mktemp(name) / "repo"
            init(repo, name)
            capture.reset()
            emulator = Emulator(repo, capture=capture, env={**os.environ, **template.demo_env})
            # one hook at a time: the tests below read the requests in the order of events
            results = emulator.session(review=True, sequential=True, **close_fields)
            results.append(emulator.fire("session-open", input="x" * 50_000))
            assert all(result.ok for result in results), [r.output for r in results]
            found[name] = capture.requests
    return found


@pytest.mark.parametrize("name", CASES)
def test_every_request_validates_against_the_vendors_documented_format(name, sent):
    schema, document, _ = CASES[name]
    requests = sent[name]

    assert len(requests) == 4  # open, open again (reviewed), close, the long input
    for request in requests:
        assert request.method == "POST"
        assert validate(document(request), schema) == [], request.text[:500]


def test_splunk_hec_authorization_and_time_are_as_documented(sent):
    for request in sent["splunk-hec"]:
        assert request.header("Authorization").startswith("Splunk ")
        assert request.url.endswith("/services/collector/event")
        event_time = request.json()["time"]
        assert abs(event_time - datetime.datetime.now().timestamp()) < 600  # seconds, not ms


def test_pagerduty_timestamps_are_iso_8601_and_dedup_keys_the_payload_ids(sent):
    requests = sent["pagerduty"]
    for request in requests:
        stamp = request.json()["payload"]["timestamp"]
        assert datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    keys = [request.json()["dedup_key"] for request in requests]
    assert keys[0] == keys[1] != keys[2]  # the reviewed session's two opens: one alert


# --- the schemas themselves ------------------------------------------------------------------


SCHEMAS = [SPLUNK, SUMO, SECOPS, PAGERDUTY]


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_cites_its_documentation_and_its_examples_validate(name):
    schema = json.loads(read_schema_text(name))  # read as shipped, through the package

    Draft202012Validator.check_schema(schema)
    assert "https://" in schema["description"]  # the vendor's documentation it follows
    assert schema["examples"]
    for example in schema["examples"]:
        assert validate(example, name) == []


def changed(document: dict, path: str, value: Any = ...) -> dict:
    """A copy with ``path`` (dotted) set to ``value``, or removed when no value is given."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    target = result
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return result


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        (PAGERDUTY, "routing_key", "too-short"),
        (PAGERDUTY, "event_action", "escalate"),
        (PAGERDUTY, "payload.severity", "high"),
        (PAGERDUTY, "payload.summary", "x" * 1025),
        (PAGERDUTY, "payload.source", ...),
        (PAGERDUTY, "payload", ...),
        (PAGERDUTY, "dedup_key", "k" * 256),
        (SPLUNK, "event", ...),
        (SPLUNK, "time", "1505768576.379"),
        (SPLUNK, "fields", {"nested": {"no": "objects"}}),
        (SUMO, "headers.content-type", "application/vnd.sumologic.prometheus"),
        (SUMO, "lines", []),
        (SECOPS, "headers.x-webhook-access-key", ...),
        (SECOPS, "headers.content-type", "text/plain"),
        (SECOPS, "events", ["not an object"]),
    ],
)
def test_schema_refuses_what_the_documentation_rules_out(name, path, value):
    example = json.loads(read_schema_text(name))["examples"][0]

    assert validate(changed(example, path, value), name) != [], (name, path, value)
