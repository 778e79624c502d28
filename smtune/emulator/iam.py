"""IAM enforcement: each role's calls are evaluated against the role's policies.

Every Lambda function runs with credentials of its execution role (`role_credentials`, called
from lambda_runtime.function_environment), every state machine's tasks and its `.sync` polling
with the state machine's role (patches / sfn_tasks), and the simulated training and hosting
check the SageMaker execution role in process (sagemaker_sim). Any other access key (the
tests' and Terraform's `test` keys) is an all-powerful principal.

A request signed with a role's key is mapped to its IAM action(s) and resource ARN(s) by the
table in `_REQUEST_MAPPERS` (per the Service Authorization Reference,
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
and each is evaluated against the role's identity policies as Terraform deployed them (inline
role policies and attached managed policies, read from moto's IAM backend): an explicit Deny
wins, else an Allow is needed (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
An operation the table does not know is denied to role principals, saying so, so that a gap
shows up instead of passing silently.

moto's own authorization (INITIAL_NO_AUTH_ACTION_COUNT) is not used: it refuses access keys
IAM does not know (the harness's `test` keys) and ignores the Resource and Condition elements of
identity policies (moto/iam/access_control.py), which is what this module evaluates.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import faults

ROLE_KEY_PREFIX = "ASIAEMUROLE"
"""Access keys of role principals: ROLE_KEY_PREFIX + 16 hex digits of the role ARN's hash."""

SESSION_NAME = "emulated"

_lock = threading.Lock()
_roles_by_key: dict[str, str] = {}
_denials: list[Denial] = []


@dataclass(frozen=True)
class Denial:
    """One refused call: who, what, on which resource, and the message it answered."""

    role_arn: str
    action: str
    resource: str
    message: str


@dataclass(frozen=True)
class Check:
    """One (action, resource) pair a request needs, with its condition context."""

    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)


class AccessDenied(ClientError):
    """A role may not perform a call: botocore's AccessDeniedException with AWS's message, so
    that a task integration reports it as it reports the service's own refusal."""

    def __init__(self, denial: Denial, operation: str = "Authorize") -> None:
        super().__init__(
            {
                "Error": {"Code": "AccessDeniedException", "Message": denial.message},
                "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": str(uuid.uuid4())},
            },
            operation,
        )
        self.denial = denial


# Credentials ------------------------------------------------------------------------------------


def _key_for(role_arn: str, prefix: str) -> str:
    digest = hashlib.sha256(role_arn.encode("utf-8")).hexdigest()[:16].upper()
    return f"{prefix}{digest}"


def role_credentials(role_arn: str) -> dict[str, str]:
    """Environment variables that make boto3 act as `role_arn` against the emulator."""
    key = _key_for(role_arn, ROLE_KEY_PREFIX)
    with _lock:
        _roles_by_key[key] = role_arn
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": "emulated-secret",
        "AWS_SESSION_TOKEN": f"emulated-session-{key}",
    }


def poller_access_key(role_arn: str) -> str:
    """The access key of Step Functions' own `.sync` polling for a state machine's role: the
    role's permissions, but queued API errors pass it by (faults.INTERNAL_ACCESS_KEY prefix)."""
    key = _key_for(role_arn, faults.INTERNAL_ACCESS_KEY)
    with _lock:
        _roles_by_key[key] = role_arn
    return key


def role_of_key(access_key: str) -> str | None:
    """The role an access key acts as; None for an all-powerful principal."""
    with _lock:
        return _roles_by_key.get(access_key)


def denials() -> list[Denial]:
    """Every refusal since the emulator started or was reset, oldest first."""
    with _lock:
        return list(_denials)


def reset() -> None:
    """Forget the recorded refusals (role keys stay valid: they are derived from the ARN)."""
    with _lock:
        _denials.clear()


# Policies ---------------------------------------------------------------------------------------


def _role(role_arn: str) -> Any:
    from moto.iam.models import iam_backends

    match = re.match(r"^arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if not match:
        return None
    account, name = match.groups()
    backend = iam_backends[account]["global"]
    try:
        return backend.get_role(name)
    except Exception:
        return None


def _documents(role: Any) -> list[dict[str, Any]]:
    documents = []
    for document in (getattr(role, "policies", None) or {}).values():
        documents.append(_parse(document))
    for policy in (getattr(role, "managed_policies", None) or {}).values():
        version = next(
            (v for v in getattr(policy, "versions", []) if getattr(v, "is_default", False)), None
        )
        text = version.document if version is not None else getattr(policy, "document", "{}")
        documents.append(_parse(text))
    return documents


def _parse(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    text = urllib.parse.unquote(str(document)) if str(document).startswith("%") else document
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@functools.cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters, ? one character, no other special character
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    # Action names are case-insensitive.
    return any(_like(str(p), action, ignore_case=True) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(_like(str(p), resource) for p in patterns)


_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NotIpAddress"}


def _operator_matches(operator: str, expected: list[str], actual: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return actual in expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() in [e.lower() for e in expected]
    if operator in ("StringLike", "ArnLike"):
        return any(_like(e, actual) for e in expected)
    if operator == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    if operator == "NumericEquals":
        return any(float(e) == float(actual) for e in expected)
    raise ValueError(operator)


def _condition_holds(operator: str, key: str, values: Any, context: dict[str, str]) -> bool:
    """One condition (operator, key, values), per
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html:
    a key absent from the request fails a condition unless the operator is negated, ends in
    IfExists, or is Null."""
    expected = [str(v) for v in _as_list(values)]
    actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if operator == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if base.startswith(prefix):
            base = base[len(prefix) :]
    if actual is None:
        return if_exists or base in _NEGATED
    if base in _NEGATED:
        positive = base.replace("Not", "", 1)
        return not _operator_matches(positive, expected, actual)
    return _operator_matches(base, expected, actual)


def _statement_applies(statement: dict[str, Any], check: Check) -> bool:
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), check.action):
            return False
    elif "NotAction" in statement:
        if _action_matches(_as_list(statement["NotAction"]), check.action):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), check.resource):
            return False
    elif "NotResource" in statement and _resource_matches(
        _as_list(statement["NotResource"]), check.resource
    ):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, values in (conditions or {}).items():
            if not _condition_holds(operator, key, values, check.context):
                return False
    return True


def _session_arn(role_arn: str) -> str:
    match = re.match(r"^arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if not match:
        return role_arn
    partition, account, name = match.groups()
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/{SESSION_NAME}"


def evaluate(role_arn: str, check: Check) -> Denial | None:
    """None when the role's identity policies allow the check, else the Denial."""
    role = _role(role_arn)
    if role is None:
        # A role IAM does not hold (a function or state machine created with a made-up role
        # ARN, as unit tests do) is not enforced.
        return None
    allowed = False
    denied = False
    for document in _documents(role):
        for statement in _statements(document):
            if not _statement_applies(statement, check):
                continue
            if statement.get("Effect") == "Deny":
                denied = True
            elif statement.get("Effect") == "Allow":
                allowed = True
    if allowed and not denied:
        return None
    # AWS's wording (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
    reason = (
        "with an explicit deny in an identity-based policy"
        if denied
        else f"because no identity-based policy allows the {check.action} action"
    )
    message = (
        f"User: {_session_arn(role_arn)} is not authorized to perform: {check.action} "
        f"on resource: {check.resource} {reason}"
    )
    return Denial(role_arn, check.action, check.resource, message)


def _record(denial: Denial) -> Denial:
    with _lock:
        _denials.append(denial)
    return denial


def authorize(role_arn: str, checks: Iterable[Check]) -> None:
    """Raise AccessDenied for the first check the role's policies do not allow."""
    for check in checks:
        denial = evaluate(role_arn, check)
        if denial is not None:
            raise AccessDenied(_record(denial))


# Requests ---------------------------------------------------------------------------------------


@dataclass
class Request:
    """What the mappers need of an HTTP request."""

    service: str
    operation: str
    region: str
    account: str
    partition: str
    params: dict[str, Any]
    path: str
    method: str
    query: dict[str, list[str]]
    host: str

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        region = self.region if region is None else region
        account = "" if service in ("s3",) else self.account
        if service == "iam":
            region = ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"


Mapper = Callable[[Request], list[Check]]

_SIGNING_NAMES = {
    "sagemaker": "sagemaker",
    "lambda": "lambda",
    "states": "stepfunctions",
    "application-autoscaling": "application-autoscaling",
    "s3": "s3",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "kms": "kms",
    "logs": "logs",
    "events": "events",
    "monitoring": "cloudwatch",
    "iam": "iam",
    "sts": "sts",
}

_IAM_PREFIX = {"stepfunctions": "states", "cloudwatch": "cloudwatch"}

_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/aws4_request"
)


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _params(service: str, protocol: str, environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    if protocol == "json" or protocol == "rest-json":
        try:
            parsed = json.loads(body) if body.strip() else {}
        except ValueError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {}
    if protocol == "query":
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
    return {}


# SageMaker: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
# ARNs carry names lowercased.
_SAGEMAKER_RESOURCES: dict[str, tuple[str, str]] = {
    # operation: (resource type, request parameter holding its name or ARN)
    "CreateHyperParameterTuningJob": ("hyper-parameter-tuning-job", "HyperParameterTuningJobName"),
    "DescribeHyperParameterTuningJob": (
        "hyper-parameter-tuning-job",
        "HyperParameterTuningJobName",
    ),
    "StopHyperParameterTuningJob": ("hyper-parameter-tuning-job", "HyperParameterTuningJobName"),
    "ListTrainingJobsForHyperParameterTuningJob": (
        "hyper-parameter-tuning-job",
        "HyperParameterTuningJobName",
    ),
    "CreateTrainingJob": ("training-job", "TrainingJobName"),
    "DescribeTrainingJob": ("training-job", "TrainingJobName"),
    "StopTrainingJob": ("training-job", "TrainingJobName"),
    "CreateModel": ("model", "ModelName"),
    "DescribeModel": ("model", "ModelName"),
    "DeleteModel": ("model", "ModelName"),
    "CreateEndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "DescribeEndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "DeleteEndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "CreateEndpoint": ("endpoint", "EndpointName"),
    "UpdateEndpoint": ("endpoint", "EndpointName"),
    "DescribeEndpoint": ("endpoint", "EndpointName"),
    "DeleteEndpoint": ("endpoint", "EndpointName"),
    "UpdateEndpointWeightsAndCapacities": ("endpoint", "EndpointName"),
    "DescribeAlgorithm": ("algorithm", "AlgorithmName"),
    "CreateAlgorithm": ("algorithm", "AlgorithmName"),
    "CreateModelPackageGroup": ("model-package-group", "ModelPackageGroupName"),
    "DescribeModelPackageGroup": ("model-package-group", "ModelPackageGroupName"),
    "DeleteModelPackageGroup": ("model-package-group", "ModelPackageGroupName"),
    "DescribeModelPackage": ("model-package", "ModelPackageName"),
    "UpdateModelPackage": ("model-package", "ModelPackageArn"),
    "DeleteModelPackage": ("model-package", "ModelPackageName"),
    "AddTags": ("", "ResourceArn"),
    "ListTags": ("", "ResourceArn"),
    "DeleteTags": ("", "ResourceArn"),
}
# List and Search APIs have no resource-level permissions ("*").
_SAGEMAKER_UNSCOPED = {
    "ListEndpointConfigs",
    "ListEndpoints",
    "ListModels",
    "ListModelPackages",
    "ListModelPackageGroups",
    "ListTrainingJobs",
    "ListHyperParameterTuningJobs",
    "ListAlgorithms",
    "Search",
}


def _sagemaker_arn(request: Request, kind: str, value: str) -> str:
    if value.startswith("arn:"):
        return value.lower()
    return request.arn("sagemaker", f"{kind}/{value.lower()}")


def _sagemaker(request: Request) -> list[Check]:
    operation, params = request.operation, request.params
    action = f"sagemaker:{operation}"
    if operation in _SAGEMAKER_UNSCOPED:
        return [Check(action, "*")]
    if operation not in _SAGEMAKER_RESOURCES:
        return []
    kind, key = _SAGEMAKER_RESOURCES[operation]
    value = str(params.get(key) or "")
    if operation == "CreateModelPackage":
        value = str(params.get("ModelPackageGroupName") or "")
    resource = _sagemaker_arn(request, kind, value)
    checks = [Check(action, resource)]
    if operation in ("CreateEndpoint", "UpdateEndpoint"):
        # Authorised on the endpoint and on the config it deploys (SAR: endpoint*, endpoint-config*).
        checks.append(
            Check(
                action,
                _sagemaker_arn(
                    request, "endpoint-config", str(params.get("EndpointConfigName") or "")
                ),
            )
        )
    if operation.startswith("Create") and params.get("Tags"):
        # Tags on a Create call are authorised as sagemaker:AddTags on the new resource
        # (https://docs.aws.amazon.com/sagemaker/latest/dg/security_iam_id-based-policy-examples.html#grant-tagging-permissions).
        checks.append(Check("sagemaker:AddTags", resource))
    role = None
    if operation == "CreateHyperParameterTuningJob":
        definition = (
            params.get("TrainingJobDefinition") or (params.get("TrainingJobDefinitions") or [{}])[0]
        )
        role = definition.get("RoleArn")
    elif operation in ("CreateModel", "CreateTrainingJob"):
        role = params.get("ExecutionRoleArn") or params.get("RoleArn")
    if role:
        # Passing the execution role (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html).
        checks.append(
            Check("iam:PassRole", str(role), {"iam:PassedToService": "sagemaker.amazonaws.com"})
        )
    return checks


def _with_model_package(mapper: Mapper) -> Mapper:
    def mapped(request: Request) -> list[Check]:
        if request.operation == "CreateModelPackage":
            group = str(request.params.get("ModelPackageGroupName") or "")
            resource = _sagemaker_arn(request, "model-package-group", group)
            checks = [Check("sagemaker:CreateModelPackage", resource)]
            if request.params.get("Tags"):
                checks.append(Check("sagemaker:AddTags", resource))
            return checks
        return mapper(request)

    return mapped


# Step Functions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
_SFN_RESOURCE_KEYS = {
    "StartExecution": "stateMachineArn",
    "StartSyncExecution": "stateMachineArn",
    "DescribeStateMachine": "stateMachineArn",
    "ListExecutions": "stateMachineArn",
    "DescribeExecution": "executionArn",
    "StopExecution": "executionArn",
    "GetExecutionHistory": "executionArn",
}


def _stepfunctions(request: Request) -> list[Check]:
    action = f"states:{request.operation}"
    if request.operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        # A service integration's task token has no resource ARN to scope (the resource type
        # of SendTask* is the activity).
        return [Check(action, "*")]
    key = _SFN_RESOURCE_KEYS.get(request.operation)
    if key is None:
        return []
    return [Check(action, str(request.params.get(key) or ""))]


def _lambda(request: Request) -> list[Check]:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
    match = re.match(r"^/2015-03-31/functions/([^/]+)/invocations/?$", request.path)
    if request.operation != "Invoke" or not match:
        return []
    name = urllib.parse.unquote(match.group(1))
    if not name.startswith("arn:"):
        name = request.arn("lambda", f"function:{name}")
    name = re.sub(r":\$LATEST$", "", name)
    return [Check("lambda:InvokeFunction", name)]


def _s3(request: Request) -> list[Check]:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    host = request.host.split(":")[0]
    path = urllib.parse.unquote(request.path)
    bucket, key = "", ""
    labels = host.split(".")
    if (
        len(labels) > 1
        and not re.fullmatch(r"[\d.]+", host)
        and labels[0] not in ("s3", "localhost")
    ):
        bucket, key = labels[0], path.lstrip("/")
    else:
        bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return [Check("s3:ListAllMyBuckets", "*")]
    bucket_arn = f"arn:{request.partition}:s3:::{bucket}"
    object_arn = f"{bucket_arn}/{key}"
    method, query = request.method, request.query
    if key:
        if "uploads" in query or "uploadId" in query:
            if method == "DELETE":
                return [Check("s3:AbortMultipartUpload", object_arn)]
            return [Check("s3:PutObject", object_arn)]
        if "tagging" in query:
            action = {"GET": "s3:GetObjectTagging", "PUT": "s3:PutObjectTagging"}.get(method)
            return [Check(action, object_arn)] if action else []
        action = {
            "GET": "s3:GetObject",
            "HEAD": "s3:GetObject",
            "PUT": "s3:PutObject",
            "DELETE": "s3:DeleteObject",
        }.get(method)
        return [Check(action, object_arn)] if action else []
    if method == "GET" and "location" in query:
        return [Check("s3:GetBucketLocation", bucket_arn)]
    if method in ("GET", "HEAD") and not (
        set(query)
        - {
            "list-type",
            "prefix",
            "delimiter",
            "max-keys",
            "continuation-token",
            "start-after",
            "encoding-type",
            "marker",
        }
    ):
        return [Check("s3:ListBucket", bucket_arn)]
    return []


def _json_named(prefix: str, key: str, builder: Callable[[Request, str], str]) -> Mapper:
    def mapped(request: Request) -> list[Check]:
        value = str(request.params.get(key) or "")
        return [Check(f"{prefix}:{request.operation}", builder(request, value))]

    return mapped


def _ssm_arn(request: Request, name: str) -> str:
    return request.arn("ssm", f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


def _sqs_arn(request: Request, url: str) -> str:
    parts = urllib.parse.urlparse(url).path.strip("/").split("/")
    account, name = (parts[0], parts[1]) if len(parts) >= 2 else (request.account, parts[0])
    return f"arn:{request.partition}:sqs:{request.region}:{account}:{name}"


def _kms_arn(request: Request, key: str) -> str:
    if key.startswith("arn:"):
        return key
    return request.arn("kms", key if key.startswith("alias/") else f"key/{key}")


def _autoscaling(request: Request) -> list[Check]:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_applicationautoscaling.html
    # Scalable targets are identified by generated IDs; the condition keys name the namespace
    # and dimension.
    params = request.params
    context = {
        "application-autoscaling:service-namespace": str(params.get("ServiceNamespace") or ""),
        "application-autoscaling:scalable-dimension": str(params.get("ScalableDimension") or ""),
    }
    context = {k: v for k, v in context.items() if v}
    action = f"application-autoscaling:{request.operation}"
    checks = [Check(action, "*", context)]
    resource_id = str(params.get("ResourceId") or "")
    endpoint = re.match(r"^endpoint/([^/]+)/variant/", resource_id)
    if params.get("ServiceNamespace") == "sagemaker" and endpoint:
        endpoint_arn = request.arn("sagemaker", f"endpoint/{endpoint.group(1).lower()}")
        if request.operation == "RegisterScalableTarget":
            # Application Auto Scaling checks that the caller may read and resize the variant
            # (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling-prerequisites.html,
            # https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html).
            checks += [
                Check("sagemaker:DescribeEndpoint", endpoint_arn),
                Check("sagemaker:UpdateEndpointWeightsAndCapacities", endpoint_arn),
            ]
        alarms = request.arn("cloudwatch", f"alarm:TargetTracking-{resource_id}-AlarmHigh-*")
        if request.operation == "PutScalingPolicy" and params.get(
            "TargetTrackingScalingPolicyConfiguration"
        ):
            # A target tracking policy creates its alarms with the caller's permissions.
            checks += [
                Check("cloudwatch:PutMetricAlarm", alarms),
                Check("cloudwatch:DescribeAlarms", alarms),
            ]
        if request.operation == "DeregisterScalableTarget":
            checks.append(Check("cloudwatch:DeleteAlarms", alarms))
    return checks


def _sns(request: Request) -> list[Check]:
    if request.operation != "Publish":
        return []
    return [Check("sns:Publish", str(request.params.get("TopicArn") or ""))]


def _sts(request: Request) -> list[Check]:
    if request.operation == "GetCallerIdentity":
        return [Check("sts:GetCallerIdentity", "*")]
    if request.operation == "AssumeRole":
        return [Check("sts:AssumeRole", str(request.params.get("RoleArn") or ""))]
    return []


_REQUEST_MAPPERS: dict[str, Mapper] = {
    "sagemaker": _with_model_package(_sagemaker),
    "stepfunctions": _stepfunctions,
    "lambda": _lambda,
    "s3": _s3,
    "sns": _sns,
    "sqs": _json_named("sqs", "QueueUrl", _sqs_arn),
    "ssm": _json_named("ssm", "Name", _ssm_arn),
    "kms": _json_named("kms", "KeyId", _kms_arn),
    "application-autoscaling": _autoscaling,
    "sts": _sts,
}

# Calls every principal may make: sts:GetCallerIdentity needs no permission
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
_ALWAYS_ALLOWED = {("sts", "GetCallerIdentity")}


def _operation(service: str, environ: dict[str, Any], params: dict[str, Any]) -> str:
    model = faults._model(service)
    if model.protocol == "json":
        return str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")[2]
    if model.protocol == "query":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        return str(params.get("Action") or (query.get("Action") or [""])[0])
    if service == "s3":
        return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '')}"
    return faults._rest_operation(service, environ) or ""


def request_checks(environ: dict[str, Any]) -> tuple[str, list[Check] | str] | None:
    """(role ARN, the checks a role-signed request needs — or why it cannot be mapped), or None
    for a request of an all-powerful principal."""
    scope = environ.get("HTTP_AUTHORIZATION", "") or urllib.parse.unquote(
        environ.get("QUERY_STRING", "")
    )
    match = _CREDENTIAL.search(scope)
    if not match:
        return None
    role_arn = role_of_key(match["key"])
    if role_arn is None:
        return None
    service = _SIGNING_NAMES.get(match["service"])
    if service is None:
        return role_arn, f"the emulator does not know the resources of service {match['service']}"
    model = faults._model(service)
    body = _read_body(environ)
    params = _params(service, model.protocol, environ, body)
    operation = _operation(service, environ, params)
    if (service, operation) in _ALWAYS_ALLOWED:
        return role_arn, []
    account_match = re.match(r"^arn:([^:]+):iam::(\d{12}):", role_arn)
    partition, account = account_match.groups() if account_match else ("aws", "123456789012")
    request = Request(
        service=service,
        operation=operation,
        region=match["region"],
        account=account,
        partition=partition,
        params=params,
        path=environ.get("PATH_INFO", ""),
        method=environ.get("REQUEST_METHOD", "GET"),
        query=urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
        host=environ.get("HTTP_HOST", ""),
    )
    mapper = _REQUEST_MAPPERS.get(service)
    checks = mapper(request) if mapper is not None else []
    if not checks or any(not c.action or not c.resource for c in checks):
        prefix = _IAM_PREFIX.get(service, service)
        return role_arn, (
            f"the emulator does not know the IAM action and resource of {service} "
            f"{operation or 'request'} ({prefix}); it refuses it to role principals"
        )
    return role_arn, checks


def denial_response(
    environ: dict[str, Any],
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The AccessDenied answer for a role-signed request its policies refuse, else None."""
    mapped = request_checks(environ)
    if mapped is None:
        return None
    role_arn, checks = mapped
    scope = _CREDENTIAL.search(
        environ.get("HTTP_AUTHORIZATION", "")
        or urllib.parse.unquote(environ.get("QUERY_STRING", ""))
    )
    service = _SIGNING_NAMES.get(scope["service"] if scope else "", "sts")
    if isinstance(checks, str):
        denial = _record(
            Denial(
                role_arn,
                "unknown",
                "unknown",
                f"User: {_session_arn(role_arn)} is not authorized: {checks}",
            )
        )
    else:
        try:
            authorize(role_arn, checks)
            return None
        except AccessDenied as refused:
            denial = refused.denial
    return _render(service, denial.message, environ.get("REQUEST_METHOD", "POST"))


def _render(service: str, message: str, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """AccessDenied in the service's protocol: `AccessDeniedException` (HTTP 400) for JSON
    protocols, Lambda's `AccessDeniedException` (403), S3's `AccessDenied` (403), SNS's
    `AuthorizationError` (403, https://docs.aws.amazon.com/sns/latest/api/API_Publish.html),
    `AccessDenied` (403) for the other query protocols."""
    protocol = faults._model(service).protocol
    if protocol == "json":
        code, status = "AccessDeniedException", 400
    elif protocol == "rest-json":
        code, status = "AccessDeniedException", 403
    elif service == "sns":
        code, status = "AuthorizationError", 403
    else:
        code, status = "AccessDenied", 403
    error = faults.ApiError(service, "", code, message, status)
    status_line, headers, body = faults.render(error, str(uuid.uuid4()), method)
    return status_line, list(headers), body
