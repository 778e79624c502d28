"""EventBridge rule targets that are Lambda functions.

moto 5.2.5's rules deliver to CloudWatch Logs, archives, SQS, other event buses and API
destinations; a Lambda function target raises NotImplementedError inside PutEvents (the caller
gets HTTP 500). EventBridge invokes a Lambda target asynchronously
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-targets.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html), with the event as the
function's input: the whole event (`version`, `id`, `detail-type`, `source`, `account`, `time`
as ISO-8601, `region`, `resources`, `detail`), or what the target's `Input`, `InputPath` or
`InputTransformer` makes of it
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html). A disabled rule
delivers nothing (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_DisableRule.html).
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Callable

_EVENT_KEYS = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
)


def is_lambda_target(target: dict[str, Any]) -> bool:
    parts = str(target.get("Arn", "")).split(":")
    return len(parts) > 5 and parts[2] == "lambda" and parts[5] == "function"


def _iso_time(value: Any) -> Any:
    if isinstance(value, (int, float)):
        moment = datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def event_as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target (moto's bookkeeping keys dropped)."""
    delivered = {key: event[key] for key in _EVENT_KEYS if key in event}
    if "time" in delivered:
        delivered["time"] = _iso_time(delivered["time"])
    return delivered


def target_input(target: dict[str, Any], event: dict[str, Any], transform_input: bool) -> bytes:
    """The function's input for this target."""
    delivered = event_as_delivered(event)
    if transform_input and target.get("Input") is not None:
        return str(target["Input"]).encode("utf-8")
    if transform_input and target.get("InputPath"):
        from jsonpath_ng.ext import parse

        matches = [match.value for match in parse(target["InputPath"]).find(delivered)]
        return json.dumps(matches[0] if matches else None).encode("utf-8")
    if transform_input and target.get("InputTransformer"):
        from moto.events.utils import EventTemplateParser

        transformer = target["InputTransformer"]
        transformed = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=delivered,  # type: ignore[arg-type]
        )
        return json.dumps(transformed).encode("utf-8")
    return json.dumps(delivered).encode("utf-8")


def deliver_to_lambda(
    rule: Any,
    target: dict[str, Any],
    event: dict[str, Any],
    transform_input: bool,
    queue: Callable[[Any, bytes], str],
) -> None:
    """Queue an asynchronous invocation of the target's function; a function that does not
    exist gets nothing (EventBridge counts a failed invocation)."""
    from moto.awslambda.utils import get_backend

    parts = str(target["Arn"]).split(":")
    region, account = parts[3], parts[4]
    try:
        function = get_backend(account, region).get_function(target["Arn"])
    except Exception:
        return
    queue(function, target_input(target, event, transform_input))
