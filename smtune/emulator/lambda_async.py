"""Asynchronous Lambda invocations as AWS documents them: retries, then destinations.

https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html: Lambda queues the event and
answers at once; when the function returns an error, Lambda runs it again, by default two more
times (one minute before the first retry, two minutes before the second), then discards the
event or sends it to the on-failure destination of the function's event invoke config
(MaximumRetryAttempts 0-2). The record sent to a destination is the invocation record of
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html:
`{version, timestamp, requestContext{requestId, functionArn, condition,
approximateInvokeCount}, requestPayload, responseContext{statusCode, executedVersion,
functionError}, responsePayload}`; every attempt keeps the request ID of the invocation.

The emulator waits RETRY_DELAYS_SECONDS (fractions of a second) instead of AWS's minutes, does
not enforce MaximumEventAgeInSeconds (its retries end within seconds), and delivers to SQS and
SNS destinations; another destination type, or one that does not exist, is named in the
function's log and the record is dropped, as Lambda drops a record it cannot deliver.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
import uuid
from typing import Any, Callable

from .lambda_runtime import Invocation

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2
RETRY_DELAYS_SECONDS = (0.5, 1.0)
"""Before the first and the second retry (AWS: 60 and 120 seconds)."""

RECORD_VERSION = "1.0"


def event_invoke_config(function: Any) -> dict[str, Any]:
    """The function's event invoke config as moto stores it (PutFunctionEventInvokeConfig),
    or {} when it has none."""
    configs = getattr(function, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}


def invocation_record(
    function: Any,
    request_id: str,
    event: bytes,
    invocation: Invocation,
    attempts: int,
) -> dict[str, Any]:
    """The invocation record Lambda sends to a destination."""
    timestamp = datetime.datetime.now(datetime.timezone.utc)
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation.function_error:
        response_context["functionError"] = invocation.function_error
    return {
        "version": RECORD_VERSION,
        "timestamp": timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function.function_arn}:$LATEST",
            "condition": "RetriesExhausted" if invocation.function_error else "Success",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(event),
        "responseContext": response_context,
        "responsePayload": _json_or_text(invocation.payload),
    }


def deliver(destination_arn: str, record: dict[str, Any]) -> str | None:
    """Send the record to an SQS queue or an SNS topic; the problem, if it could not."""
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    parts = destination_arn.split(":", 5)
    if len(parts) != 6:
        return f"{destination_arn} is not an ARN"
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    body = json.dumps(record)
    try:
        if service == "sqs":
            sqs_backends[account][region].send_message(resource, body)
        elif service == "sns":
            sns_backends[account][region].publish(body, arn=destination_arn)
        else:
            return f"the emulator delivers to SQS and SNS destinations only, not {service}"
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


class AsyncInvocation:
    """One event queued for a function: attempts, retries and the destination."""

    def __init__(
        self,
        function: Any,
        event: bytes,
        run: Callable[[str], Invocation],
        is_live: Callable[[], bool],
        log: Callable[[str], None],
    ) -> None:
        self.function = function
        self.event = event
        self.request_id = str(uuid.uuid4())
        self._run = run
        self._is_live = is_live
        self._log = log

    def start(self) -> str:
        """Run in the background, as Lambda answers the caller before the function runs."""
        worker = threading.Thread(
            target=self._attempts,
            name=f"lambda-event-{self.function.function_name}",
            daemon=True,
        )
        worker.start()
        return self.request_id

    def _attempts(self) -> None:
        config = event_invoke_config(self.function)
        retries = int(config.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
        attempts = 0
        invocation: Invocation | None = None
        while attempts <= retries:
            if attempts:
                time.sleep(RETRY_DELAYS_SECONDS[min(attempts, len(RETRY_DELAYS_SECONDS)) - 1])
            if not self._is_live():
                return
            attempts += 1
            invocation = self._run(self.request_id)
            if not invocation.function_error:
                break
        if invocation is None:
            return
        outcome = "OnFailure" if invocation.function_error else "OnSuccess"
        # The config may have changed while the event waited: the latest one decides.
        destination = (
            (event_invoke_config(self.function).get("DestinationConfig") or {})
            .get(outcome, {})
            .get("Destination")
        )
        if not destination or not self._is_live():
            return
        record = invocation_record(self.function, self.request_id, self.event, invocation, attempts)
        problem = deliver(destination, record)
        if problem:
            self._log(
                f"RequestId: {self.request_id} could not deliver the {outcome} record to "
                f"{destination}: {problem}\n"
            )


def _json_or_text(data: bytes | str) -> Any:
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text
