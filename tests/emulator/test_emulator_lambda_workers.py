"""Lambda functions run like Lambda: a warm worker per function that keeps its module state,
replaced when it crashes or times out, with the function's handler, environment, timeout and
memory setting, more workers for concurrent invocations, and the runtime's interpreter."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from smtune.emulator import lambda_runtime
from smtune.emulator.lambda_runtime import LambdaRuntime, find_interpreter
from tests.support.emulator import zip_of

pytestmark = pytest.mark.emulator

HANDLERS = {
    "warmapp/__init__.py": "",
    "warmapp/handlers.py": """
import os
import sys
import time

import boto3

COUNT = 0


def count(event, context):
    global COUNT
    COUNT += 1
    if event.get("crash"):
        os._exit(3)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"count": COUNT, "pid": os.getpid(), "python": sys.executable}


def environment(event, context):
    names = [
        "SETTING",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "_HANDLER",
        "AWS_ENDPOINT_URL",
    ]
    found = {name: os.environ.get(name) for name in names}
    found["LAMBDA_TASK_ROOT_IS_CWD"] = os.environ["LAMBDA_TASK_ROOT"] == os.getcwd()
    found["memory_limit_in_mb"] = context.memory_limit_in_mb
    return found


def rendezvous(event, context):
    # Each invocation announces itself, then waits for the other one to arrive.
    s3 = boto3.client("s3")
    s3.put_object(Bucket="arrivals", Key=context.aws_request_id, Body=b"")
    deadline = time.time() + 20
    while time.time() < deadline:
        if s3.list_objects_v2(Bucket="arrivals").get("KeyCount", 0) >= 2:
            return {"met": True, "pid": os.getpid()}
        time.sleep(0.1)
    return {"met": False, "pid": os.getpid()}


def hog(event, context):
    block = bytearray(event["megabytes"] * 1024 * 1024)
    return {"allocated": len(block)}
""",
}


@pytest.fixture
def lam(aws: Any, role_arn: str) -> Any:
    client = aws("lambda")

    def create(name: str, handler: str, **extra: Any) -> None:
        client.create_function(
            FunctionName=name,
            Runtime=extra.pop("Runtime", "python3.12"),
            Role=role_arn,
            Handler=f"warmapp.handlers.{handler}",
            Code={"ZipFile": zip_of(HANDLERS)},
            Timeout=extra.pop("Timeout", 30),
            **extra,
        )

    client.create = create
    return client


def invoke(lam: Any, name: str, event: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_module_state_persists_between_invocations(lam: Any) -> None:
    lam.create("counter", "count")

    answers = [invoke(lam, "counter", {})[1] for _ in range(3)]

    assert [answer["count"] for answer in answers] == [1, 2, 3]
    assert len({answer["pid"] for answer in answers}) == 1


def test_a_crashed_worker_answers_exit_error_and_is_replaced(lam: Any) -> None:
    lam.create("crasher", "count")
    first = invoke(lam, "crasher", {})[1]

    error, crashed = invoke(lam, "crasher", {"crash": True})
    after = invoke(lam, "crasher", {})[1]

    assert error == "Unhandled"
    assert crashed["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with status 3" in crashed["errorMessage"]
    assert after["count"] == 1
    assert after["pid"] != first["pid"]


def test_an_invocation_past_the_timeout_is_killed_and_the_next_starts_fresh(lam: Any) -> None:
    lam.create("slow", "count", Timeout=1)
    first = invoke(lam, "slow", {})[1]

    error, timed_out = invoke(lam, "slow", {"sleep": 30})
    after = invoke(lam, "slow", {})[1]

    assert error == "Unhandled"
    assert timed_out["errorType"] == "Sandbox.Timedout"
    assert timed_out["errorMessage"] == "Task timed out after 1.00 seconds"
    assert (after["count"], after["pid"] != first["pid"]) == (1, True)


def test_the_functions_environment_and_lambdas_reserved_variables(lam: Any, emulator: Any) -> None:
    lam.create(
        "env",
        "environment",
        MemorySize=256,
        Environment={"Variables": {"SETTING": "one"}},
    )

    error, found = invoke(lam, "env", {})

    assert error is None
    assert found == {
        "SETTING": "one",
        "AWS_LAMBDA_FUNCTION_NAME": "env",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": "warmapp.handlers.environment",
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "LAMBDA_TASK_ROOT_IS_CWD": True,
        "memory_limit_in_mb": 256,
    }


def test_a_configuration_update_starts_a_new_worker(lam: Any) -> None:
    lam.create("updated", "count", Environment={"Variables": {"SETTING": "one"}})
    invoke(lam, "updated", {})
    invoke(lam, "updated", {})

    lam.update_function_configuration(
        FunctionName="updated", Environment={"Variables": {"SETTING": "two"}}
    )
    after = invoke(lam, "updated", {})[1]

    assert after["count"] == 1


def test_a_recreated_function_starts_a_new_worker(lam: Any) -> None:
    lam.create("again", "count")
    invoke(lam, "again", {})
    invoke(lam, "again", {})

    lam.delete_function(FunctionName="again")
    lam.create("again", "count")
    after = invoke(lam, "again", {})[1]

    assert after["count"] == 1


def test_concurrent_invocations_run_in_parallel_workers(lam: Any, aws: Any) -> None:
    aws("s3").create_bucket(Bucket="arrivals")
    lam.create("meet", "rendezvous")
    answers: list[dict[str, Any]] = []

    def call() -> None:
        answers.append(invoke(lam, "meet", {})[1])

    callers = [threading.Thread(target=call) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    assert [answer["met"] for answer in answers] == [True, True]
    assert len({answer["pid"] for answer in answers}) == 2


def test_memory_beyond_the_setting_is_refused(lam: Any) -> None:
    lam.create("hog", "hog", MemorySize=128)

    within = invoke(lam, "hog", {"megabytes": 16})
    beyond = invoke(lam, "hog", {"megabytes": 512})

    assert within == (None, {"allocated": 16 * 1024 * 1024})
    assert beyond[0] == "Unhandled"
    assert beyond[1]["errorType"] == "MemoryError"


def test_a_missing_runtime_interpreter_runs_the_emulators_with_a_notice(
    lam: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=lambda_runtime.__name__)
    lam.create("future", "count", Runtime="python3.99")

    error, answer = invoke(lam, "future", {})
    invoke(lam, "future", {})

    assert error is None
    assert answer["python"] == sys.executable
    notices = [r.getMessage() for r in caplog.records if "python3.99" in r.getMessage()]
    assert len(notices) == 1
    assert sys.executable in notices[0]


def test_the_runtimes_interpreter_is_found_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "python3.98"
    fake.write_text(f"#!/bin/sh\necho {tmp_path}/real-python3.98\necho 3.98\necho boto3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    found = find_interpreter("python3.98")

    assert (found.path, found.notice) == (f"{tmp_path}/real-python3.98", None)


def test_closing_the_runtime_stops_its_workers(lam: Any, emulator: Any, tmp_path: Path) -> None:
    from moto.awslambda.utils import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    lam.create("closing", "count")
    function = get_backend(DEFAULT_ACCOUNT_ID, "us-east-1").get_function("closing")
    runtime = LambdaRuntime(emulator.endpoint_url, tmp_path)
    pid = json.loads(runtime.invoke(function, b"{}").payload)["pid"]

    runtime.close()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert runtime.workers() == 0


def test_a_runtime_interpreter_without_the_sdk_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "python3.98"
    fake.write_text("#!/bin/sh\necho /opt/python3.98\necho 3.98\necho SyntaxError\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")

    found = find_interpreter("python3.98")

    assert found.path == sys.executable
    assert found.notice is not None
    assert "cannot import the emulator's boto3 (SyntaxError)" in found.notice
