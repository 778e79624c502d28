"""Start the workflow when a manifest is uploaded.

S3 delivers events at least once. The execution name is derived from bucket, key and ETag, so a
duplicated event asks Step Functions for an execution that already exists and starts nothing,
while uploading new content to the same key (a new ETag) starts a new run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from tuning_workflow import aws

logger = logging.getLogger(__name__)

EXECUTION_NAME_LIMIT = 80
_HASH_LENGTH = 16
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def execution_name(bucket: str, key: str, etag: str) -> str:
    """`<readable part of the key>-<16 hex of sha256(bucket, key, etag)>`, at most 80 chars."""
    digest = hashlib.sha256("\n".join((bucket, key, etag)).encode("utf-8")).hexdigest()
    stem = key.rsplit("/", 1)[-1]
    if stem.lower().endswith(".json"):
        stem = stem[: -len(".json")]
    readable = _UNSAFE.sub("-", stem).strip("-_")
    readable = readable[: EXECUTION_NAME_LIMIT - _HASH_LENGTH - 1] or "manifest"
    return f"{readable}-{digest[:_HASH_LENGTH]}"


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """arn:...:stateMachine:<machine> -> arn:...:execution:<machine>:<name>."""
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def start_from_manifest(
    event: Mapping[str, Any],
    state_machine_arn: str,
    sfn: Any = None,
    manifest_prefix: str = "",
) -> dict[str, Any]:
    """Start one execution per new manifest object in the S3 event."""
    started: list[dict[str, str]] = []
    already_started: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        s3_info = record.get("s3") or {}
        bucket = (s3_info.get("bucket") or {}).get("name", "")
        object_info = s3_info.get("object") or {}
        key = unquote_plus(object_info.get("key", ""))
        reason = _skip_reason(record, bucket, key, manifest_prefix)
        if reason:
            skipped.append({"key": key, "reason": reason})
            continue
        etag = str(object_info.get("eTag") or object_info.get("sequencer") or "")
        uri = f"s3://{bucket}/{key}"
        name = execution_name(bucket, key, etag)
        sfn = sfn or aws.client("stepfunctions")
        entry = {"manifestS3Uri": uri, "executionName": name}
        try:
            response = sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=name,
                input=json.dumps({"manifestS3Uri": uri}),
            )
        except ClientError as error:
            if aws.error_code(error) != "ExecutionAlreadyExists":
                raise
            already_started.append(
                {**entry, "executionArn": execution_arn_for(state_machine_arn, name)}
            )
            logger.info("%s: execution %s already exists", uri, name)
            continue
        started.append({**entry, "executionArn": response["executionArn"]})
        logger.info("%s: started %s", uri, response["executionArn"])
    return {"started": started, "alreadyStarted": already_started, "skipped": skipped}


def _skip_reason(record: Mapping[str, Any], bucket: str, key: str, prefix: str) -> str | None:
    if record.get("eventSource") not in (None, "aws:s3"):
        return f"not an S3 event ({record.get('eventSource')})"
    event_name = str(record.get("eventName", ""))
    if not event_name.startswith("ObjectCreated:"):
        return f"not an object creation ({event_name or 'no event name'})"
    if not bucket or not key:
        return "the record names no bucket or key"
    if not key.startswith(prefix):
        return f"outside the manifest prefix {prefix!r}"
    if not key.lower().endswith(".json"):
        return "not a .json file"
    return None
