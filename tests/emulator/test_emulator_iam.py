"""IAM enforcement: a role's calls are evaluated against its policies; other keys do anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from smtune.emulator import iam

pytestmark = pytest.mark.emulator

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/allowed-endpoint"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    from smtune.emulator.server import start_emulator

    with start_emulator(port=0) as running:
        yield running.endpoint_url


def _admin(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _as_role(url: str, service: str, role_arn: str) -> Any:
    keys = iam.role_credentials(role_arn)
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=keys["AWS_SESSION_TOKEN"],
        config=boto3.session.Config(retries={"max_attempts": 1}),
    )


def _role(url: str, name: str, statements: list[dict[str, Any]]) -> str:
    client = _admin(url, "iam")
    arn = client.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.put_role_policy(
        RoleName=name,
        PolicyName=f"{name}-permissions",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
    )
    return str(arn)


def test_a_role_may_call_what_its_policy_allows_and_nothing_else(url: str) -> None:
    role = _role(
        url,
        "describe-one-endpoint",
        [
            {
                "Effect": "Allow",
                "Action": "sagemaker:Describe*",
                "Resource": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/allowed-*",
            }
        ],
    )
    sagemaker = _as_role(url, "sagemaker", role)
    with pytest.raises(ClientError) as allowed:
        sagemaker.describe_endpoint(EndpointName="allowed-endpoint")
    assert allowed.value.response["Error"]["Code"] == "ValidationException"  # past IAM: missing

    with pytest.raises(ClientError) as refused:
        sagemaker.describe_endpoint(EndpointName="other-endpoint")
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/describe-one-endpoint/emulated is not "
        "authorized to perform: sagemaker:DescribeEndpoint on resource: "
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/other-endpoint because no "
        "identity-based policy allows the sagemaker:DescribeEndpoint action"
    )
    with pytest.raises(ClientError, match="AccessDeniedException"):
        sagemaker.list_endpoints()
    # The all-powerful default keys are not evaluated.
    assert "Endpoints" in _admin(url, "sagemaker").list_endpoints()


def test_explicit_deny_wins_and_conditions_are_evaluated(url: str) -> None:
    role = _role(
        url,
        "scaling-conditioned",
        [
            {
                "Effect": "Allow",
                "Action": "application-autoscaling:DescribeScalableTargets",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"application-autoscaling:service-namespace": "sagemaker"}
                },
            },
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"},
        ],
    )
    scaling = _as_role(url, "application-autoscaling", role)
    scaling.describe_scalable_targets(ServiceNamespace="sagemaker")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        scaling.describe_scalable_targets(ServiceNamespace="ecs")

    _admin(url, "s3").create_bucket(Bucket="secret")
    _admin(url, "s3").put_object(Bucket="secret", Key="a", Body=b"x")
    s3 = _as_role(url, "s3", role)
    assert s3.list_objects_v2(Bucket="secret")["KeyCount"] == 1
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="secret", Key="a")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "with an explicit deny in an identity-based policy" in str(refused.value)


def test_an_operation_the_emulator_cannot_map_is_refused_saying_so(url: str) -> None:
    role = _role(url, "anything", [{"Effect": "Allow", "Action": "*", "Resource": "*"}])
    with pytest.raises(ClientError, match="does not know the IAM action and resource"):
        _as_role(url, "sagemaker", role).list_notebook_instances()


def test_wildcards_and_condition_operators() -> None:
    assert iam._like("arn:aws:sagemaker:*:model/run-????", "arn:aws:sagemaker:x:model/run-ab12")
    assert not iam._like("arn:aws:sagemaker:*:model/run-????", "arn:aws:sagemaker:x:model/run-ab1")
    context = {"iam:PassedToService": "sagemaker.amazonaws.com"}
    assert iam._condition_holds(
        "StringEquals", "iam:PassedToService", ["sagemaker.amazonaws.com"], context
    )
    assert not iam._condition_holds("StringEquals", "iam:PassedToService", ["x"], context)
    assert iam._condition_holds("StringLike", "iam:PassedToService", ["sage*"], context)
    assert not iam._condition_holds("ArnLike", "aws:SourceArn", ["arn:*"], {})
    assert iam._condition_holds("StringNotEquals", "aws:SourceArn", ["arn:x"], {})
    assert iam._condition_holds("StringEqualsIfExists", "aws:SourceArn", ["arn:x"], {})
    assert iam._condition_holds("Null", "aws:SourceArn", ["true"], {})


def test_a_function_runs_with_credentials_of_its_role(tmp_path: Any) -> None:
    from types import SimpleNamespace

    from smtune.emulator.lambda_runtime import function_environment

    role = f"arn:aws:iam::{ACCOUNT}:role/function-role"
    function = SimpleNamespace(
        role=role,
        environment_vars={"AWS_ACCESS_KEY_ID": "set-by-the-function"},
        region=REGION,
        function_name="f",
        memory_size=128,
        logs_group_name="/aws/lambda/f",
        run_time="python3.12",
        handler="app.handler",
    )

    env = function_environment(function, "http://localhost:1", tmp_path)

    assert iam.role_of_key(env["AWS_ACCESS_KEY_ID"]) == role
    assert env["AWS_SESSION_TOKEN"]
