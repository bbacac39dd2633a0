"""Real boto3, in real subprocesses, through the capture: the calls a SIEM hook makes succeed.

Credentials are dummies and the region is fixed; nothing reaches AWS. Retries are
turned off so that an answer the SDK could not parse fails the call at once instead of
being retried.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import boto3  # noqa: F401  (in the test extra: a broken install fails here, never skips)
import pytest
import trustme

from hoophooks_dk.capture.capture import Capture

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAHOOKDKTEST000000",
    "AWS_SECRET_ACCESS_KEY": "hookdk-test-secret",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}

EVERY_SERVICE = """
import json, boto3
from botocore.config import Config

config = Config(retries={"max_attempts": 1, "mode": "standard"})
def client(name):
    return boto3.client(name, config=config)

event = json.dumps({"sid": "s-1", "event": "session-close"})
results = {}
results["logs"] = client("logs").put_log_events(
    logGroupName="hoop", logStreamName="sessions",
    logEvents=[{"timestamp": 1700000000000, "message": event}],
)
results["firehose"] = client("firehose").put_record(
    DeliveryStreamName="hoop", Record={"Data": event.encode()}
)
results["kinesis"] = client("kinesis").put_record(
    StreamName="hoop", Data=event.encode(), PartitionKey="s-1"
)
results["sqs"] = client("sqs").send_message(
    QueueUrl="https://sqs.eu-west-1.amazonaws.com/123456789012/hoop", MessageBody=event
)
results["sns"] = client("sns").publish(
    TopicArn="arn:aws:sns:eu-west-1:123456789012:hoop", Message=event
)
results["s3"] = client("s3").put_object(Bucket="hoop-audit", Key="s-1.json", Body=event.encode())
results["events"] = client("events").put_events(
    Entries=[{"Source": "hoop", "DetailType": "session", "Detail": event}]
)
results["sts"] = client("sts").get_caller_identity()
print(json.dumps({name: {k: v for k, v in r.items() if k != "ResponseMetadata"}
                  for name, r in results.items()}, default=str))
"""


def run_boto3(capture: Capture, code: str, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        | AWS_ENV
        | env
        | capture.environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert capture.wait_idle()
    return json.loads(done.stdout)


@pytest.fixture
def capture():
    with Capture() as running:
        yield running


def test_every_service_a_siem_hook_uses_succeeds_with_the_default_answers(capture):
    results = run_boto3(capture, EVERY_SERVICE)

    assert list(results) == ["logs", "firehose", "kinesis", "sqs", "sns", "s3", "events", "sts"]
    assert results["firehose"]["RecordId"]
    assert results["kinesis"]["ShardId"] and results["kinesis"]["SequenceNumber"]
    assert results["sqs"]["MessageId"]
    assert results["sns"]["MessageId"]
    assert results["s3"]["ETag"].startswith('"')
    assert results["events"]["FailedEntryCount"] == 0 and len(results["events"]["Entries"]) == 1
    assert results["sts"]["Account"] == "123456789012"
    # one request per call: nothing was retried, and each went where boto3 sends it
    hosts = [urlsplit(r.url).hostname for r in capture.requests]
    assert hosts == [
        "logs.eu-west-1.amazonaws.com",
        "firehose.eu-west-1.amazonaws.com",
        "kinesis.eu-west-1.amazonaws.com",
        "sqs.eu-west-1.amazonaws.com",
        "sns.eu-west-1.amazonaws.com",
        "hoop-audit.s3.eu-west-1.amazonaws.com",
        "events.eu-west-1.amazonaws.com",
        "sts.eu-west-1.amazonaws.com",
    ]
    assert all(r.response.status == 200 for r in capture.requests)
    logs = capture.requests[0]
    assert logs.json()["logEvents"][0]["message"] == '{"sid": "s-1", "event": "session-close"}'
    s3 = capture.requests[5]
    assert s3.json() == {"sid": "s-1", "event": "session-close"}  # aws-chunked undone
    # boto3 sent the port lock's credentials on every CONNECT: nothing was refused
    assert all(r.header("proxy-authorization") is None for r in capture.requests)


def test_an_aws_ca_bundle_set_by_the_shell_does_not_defeat_the_capture(capture, tmp_path):
    """botocore prefers AWS_CA_BUNDLE to REQUESTS_CA_BUNDLE; the capture sets it too."""
    other_ca = tmp_path / "corporate-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    code = """
    import json, boto3
    print(json.dumps(boto3.client("sts").get_caller_identity()["Account"]))
    """

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=os.environ | AWS_ENV | {"AWS_CA_BUNDLE": str(other_ca)} | capture.environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '"123456789012"'


def test_a_failing_default_status_reaches_boto3_as_its_own_client_error(capture):
    capture.default_status = 500
    code = """
    import json, boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    seen = {}
    for name, call in [
        ("sqs", lambda c: c.send_message(QueueUrl="https://sqs.eu-west-1.amazonaws.com/1/q", MessageBody="x")),
        ("sns", lambda c: c.publish(TopicArn="arn:aws:sns:eu-west-1:1:t", Message="x")),
        ("s3", lambda c: c.put_object(Bucket="b", Key="k", Body=b"x")),
    ]:
        try:
            call(boto3.client(name, config=config))
            seen[name] = "no error"
        except ClientError as error:
            seen[name] = error.response["ResponseMetadata"]["HTTPStatusCode"]
    print(json.dumps(seen))
    """

    assert run_boto3(capture, code) == {"sqs": 500, "sns": 500, "s3": 500}


def test_routes_still_win_over_the_aws_default_answers(capture):
    capture.router.post("https://sts.eu-west-1.amazonaws.com/").respond(
        200,
        text=(
            "<GetCallerIdentityResponse><GetCallerIdentityResult>"
            "<Account>999999999999</Account></GetCallerIdentityResult>"
            "</GetCallerIdentityResponse>"
        ),
    )
    code = """
    import json, boto3
    print(json.dumps(boto3.client("sts").get_caller_identity()["Account"]))
    """

    assert run_boto3(capture, code) == "999999999999"
    assert capture.requests[0].matched is True
