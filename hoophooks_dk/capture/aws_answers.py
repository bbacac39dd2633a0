"""Default answers AWS SDKs accept, for requests no route matched.

boto3 is on Hoop's agent image, so hooks use it. A bare ``200 {}`` is not an answer every
AWS client can parse: XML services (SNS, STS, S3) fail to parse it or retry. The service
and its protocol are read from the request itself, as botocore builds it:

* the SigV4 credential scope (``Credential=AKID/20250101/us-east-1/<service>/aws4_request``
  in ``Authorization``, or ``X-Amz-Credential`` in a presigned URL) names the service;
* ``X-Amz-Target`` marks the JSON protocol (CloudWatch Logs, Firehose, Kinesis, SQS,
  EventBridge: ``{}`` plus the ids a caller may read);
* ``smithy-protocol: rpc-v2-cbor`` marks the CBOR protocol (an empty CBOR map);
* a form body with ``Action=`` marks the query protocol (SNS, STS: an XML
  ``<ActionResponse><ActionResult>`` document);
* S3 is REST-XML: an empty 200 with an ``ETag``; other REST services get ``{}``.

Ids are fresh UUIDs; digests the SDK could check (SQS's ``MD5OfMessageBody``, S3's
``ETag``) are computed from the request. A default status of 400 or more becomes an
error in the service's own format, so the SDK raises its usual ``ClientError``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

__all__ = ["AwsAnswer", "answer", "service_of"]

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(
    r"[?&]X-Amz-Credential=[^&/]+(?:/|%2F)\d{8}(?:/|%2F)[^&/%]+(?:/|%2F)([^&/%]+)"
)
ACCOUNT = "123456789012"

#: (status, headers, body)
AwsAnswer = tuple[int, list[tuple[str, str]], bytes]


def service_of(url: str, headers: dict[str, str]) -> str | None:
    """The AWS service a SigV4-signed request is for, or None if it is not signed so."""
    scope = _SCOPE.search(headers.get("authorization", ""))
    if scope is None:
        scope = _QUERY_SCOPE.search(url)
    return scope.group(1).lower() if scope else None


def answer(
    method: str, url: str, headers: dict[str, str], body: bytes, status: int
) -> AwsAnswer | None:
    """An answer the SDK accepts for this request, or None when it is not an AWS call.

    ``headers`` are lower-cased names; ``status`` is the capture's default status.
    """
    service = service_of(url, headers)
    if service is None:
        return None
    request_id = str(uuid.uuid4())
    ok = status < 400
    if "x-amz-target" in headers:
        operation = headers["x-amz-target"].rpartition(".")[2]
        content_type = headers.get("content-type", "application/x-amz-json-1.1")
        document = _json_result(operation, _json_or_empty(body)) if ok else _json_error(status)
        return status, _with(content_type, request_id), json.dumps(document).encode()
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        extra = [("smithy-protocol", "rpc-v2-cbor")]
        return status, _with("application/cbor", request_id) + extra, b"\xa0"  # {}
    action = _query_action(headers, body)
    if action is not None:
        xml = _query_result(service, action, request_id) if ok else _query_error(status, request_id)
        return status, _with("text/xml", request_id), xml.encode()
    if service == "s3":
        if not ok:
            return status, _with("application/xml", request_id), _s3_error(status, request_id)
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        return status, [*_with("application/xml", request_id), ("ETag", etag)], b""
    return status, _with("application/json", request_id), b"{}"


def _with(content_type: str, request_id: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", content_type),
        ("x-amzn-RequestId", request_id),
        ("x-amz-request-id", request_id),
    ]


def _json_or_empty(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _new_id() -> str:
    return str(uuid.uuid4())


def _sequence() -> str:
    return str(uuid.uuid4().int)[:56]


def _json_result(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The fields a caller of these operations commonly reads; ``{}`` for the rest."""
    count = len(params.get("Records") or params.get("Entries") or [])
    if operation == "SendMessage":  # SQS
        body = str(params.get("MessageBody", "")).encode()
        return {
            "MessageId": _new_id(),
            "MD5OfMessageBody": hashlib.md5(body, usedforsecurity=False).hexdigest(),
        }
    if operation == "SendMessageBatch":
        successful = [
            {
                "Id": entry.get("Id"),
                "MessageId": _new_id(),
                "MD5OfMessageBody": _md5(str(entry.get("MessageBody", ""))),
            }
            for entry in params.get("Entries") or []
        ]
        return {"Successful": successful, "Failed": []}
    if operation == "PutRecord" and "DeliveryStreamName" in params:  # Firehose
        return {"RecordId": _new_id(), "Encrypted": False}
    if operation == "PutRecordBatch":
        requests = [{"RecordId": _new_id()} for _ in range(count)]
        return {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": requests}
    if operation == "PutRecord":  # Kinesis
        return {"ShardId": "shardId-000000000000", "SequenceNumber": _sequence()}
    if operation == "PutRecords":
        records = [
            {"ShardId": "shardId-000000000000", "SequenceNumber": _sequence()} for _ in range(count)
        ]
        return {"FailedRecordCount": 0, "Records": records}
    if operation == "PutEvents":  # EventBridge
        return {"FailedEntryCount": 0, "Entries": [{"EventId": _new_id()} for _ in range(count)]}
    if operation == "PutLogEvents":  # CloudWatch Logs
        return {"nextSequenceToken": _sequence()}
    return {}


def _json_error(status: int) -> dict[str, str]:
    return {"__type": _error_code(status), "message": f"hookdk capture: answering {status}"}


def _query_action(headers: dict[str, str], body: bytes) -> str | None:
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else None


def _query_result(service: str, action: str, request_id: str) -> str:
    fields = ""
    if action == "Publish":  # SNS
        fields = f"<MessageId>{_new_id()}</MessageId>"
    elif action == "GetCallerIdentity":  # STS
        fields = (
            f"<Arn>arn:aws:iam::{ACCOUNT}:user/hookdk</Arn>"
            f"<UserId>AIDAHOOKDKCAPTURE0000</UserId><Account>{ACCOUNT}</Account>"
        )
    action = escape(action)
    return (
        f'<{action}Response xmlns="https://{escape(service)}.amazonaws.com/doc/">'
        f"<{action}Result>{fields}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def _query_error(status: int, request_id: str) -> str:
    kind = "Sender" if status < 500 else "Receiver"
    return (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{_error_code(status)}</Code>"
        f"<Message>hookdk capture: answering {status}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )


def _s3_error(status: int, request_id: str) -> bytes:
    return (
        f"<Error><Code>{_error_code(status)}</Code>"
        f"<Message>hookdk capture: answering {status}</Message>"
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()


def _error_code(status: int) -> str:
    if status == 429:
        return "ThrottlingException"
    if status == 403:
        return "AccessDeniedException"
    return "InternalFailure" if status >= 500 else "ValidationException"
