"""The control API, from Python and over HTTP: outcomes, sizes, pacing, reset."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from smtune.emulator import (
    ControlError,
)

pytestmark = pytest.mark.emulator


def post(url: str, document: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(document).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def port_accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Control API -----------------------------------------------------------------------------------


@pytest.fixture
def control_url(emulator):
    return emulator.endpoint_url + "/smtune-emulator/"


def test_http_control_routes_update_the_queues(control_url, emulator):
    assert post(control_url + "tuning-job-outcomes", {"status": "Failed", "times": 2})[0] == 200
    assert post(control_url + "training-jobs", {"count": 3, "failed": 1})[0] == 200
    assert post(control_url + "endpoint-outcomes", {"outcome": "RolledBack"})[0] == 200
    assert post(control_url + "progression", {"describes": 4})[0] == 200
    status, images = post(control_url + "algorithms", {"name": "a", "inferenceImage": "img"})

    state = emulator.control_state()
    assert [o["status"] for o in state["tuningJobOutcomes"]] == ["Failed", "Failed"]
    assert state["trainingJobs"] == {"count": 3, "failed": 1}
    assert [o["outcome"] for o in state["endpointOutcomes"]] == ["RolledBack"]
    assert state["progression"] == {"describes": 4}
    assert (status, images["trainingImage"]) == (200, "img")
    with urllib.request.urlopen(control_url + "state", timeout=10) as response:
        assert json.loads(response.read())["control"] == state


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (
            "tuning-job-outcomes",
            {"status": "Done"},
            "status: must be one of Completed, Failed, Stopped",
        ),
        (
            "tuning-job-outcomes",
            {"status": "Failed", "times": 0},
            "times: must be between 1 and 100",
        ),
        ("training-jobs", {"count": 2, "failed": 3}, "failed: must be between 0 and 2"),
        ("training-jobs", {"count": "2"}, "count: must be an integer"),
        ("endpoint-outcomes", {"outcome": "Broken"}, "outcome: must be one of InService"),
        ("progression", {"describes": 2, "extra": 1}, "extra: unknown field"),
        ("algorithms", {"inferenceImage": "img"}, "name: is required"),
        ("progression", [1], "body: must be a JSON object"),
    ],
)
def test_http_control_errors_name_the_field(control_url, route, body, message):
    status, answer = post(control_url + route, body)

    assert status == 400
    assert message in answer["message"]


def test_unknown_control_route_is_404(control_url):
    status, answer = post(control_url + "teleport", {})

    assert status == 404
    assert "teleport" in answer["message"]


def test_python_control_errors_name_the_field(emulator):
    with pytest.raises(ControlError, match="failureReason: must be a non-empty string"):
        emulator.queue_endpoint_outcome("Failed", failure_reason="")


def test_reset_clears_resources_and_control(emulator, aws, control_url):
    aws("s3").create_bucket(Bucket="keep-me-not")
    emulator.queue_tuning_job_outcome("Failed")
    emulator.set_progression(3)

    assert post(control_url + "reset", {})[0] == 200

    assert aws("s3").list_buckets()["Buckets"] == []
    state = emulator.control_state()
    assert state["tuningJobOutcomes"] == []
    assert state["progression"] == {"describes": 0}


def test_moto_reset_also_clears_control(emulator):
    emulator.queue_endpoint_outcome("Failed")

    post(emulator.endpoint_url + "/moto-api/reset", {})

    assert emulator.control_state()["endpointOutcomes"] == []
