"""The emulator's lifecycle and command line (each test starts its own emulator)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from smtune.emulator import (
    EmulatorError,
    UnsupportedMotoVersion,
    patches,
    start_emulator,
)
from tests.support.terraform import clients_for

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


# Lifecycle -------------------------------------------------------------------------------------


def test_starts_on_a_free_port_and_stops_cleanly():
    from moto.core.config import default_user_config
    from moto.sagemaker.responses import SageMakerResponse

    moto_port_before = os.environ.get("MOTO_PORT")
    config_before = default_user_config["stepfunctions"]

    emulator = start_emulator()
    try:
        assert emulator.port > 0
        assert emulator.endpoint_url == f"http://127.0.0.1:{emulator.port}"
        assert os.environ["MOTO_PORT"] == str(emulator.port)
        assert default_user_config["stepfunctions"] == {"execute_state_machine": True}
        assert hasattr(SageMakerResponse, "update_endpoint")
        client = clients_for(emulator.endpoint_url)("sagemaker")
        assert client.list_endpoints()["Endpoints"] == []
    finally:
        emulator.stop()

    assert not port_accepts_connections(emulator.port)
    assert os.environ.get("MOTO_PORT") == moto_port_before
    assert default_user_config["stepfunctions"] == config_before
    assert not hasattr(SageMakerResponse, "update_endpoint")
    assert not patches.is_applied()
    assert not emulator.work_dir.exists()
    emulator.stop()  # idempotent


def test_one_emulator_per_process():
    with start_emulator() as first, pytest.raises(EmulatorError, match="already runs"):
        start_emulator()
    assert not first.running


def test_a_busy_port_is_reported_by_name():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        with pytest.raises(EmulatorError, match=f"port: cannot listen on 127.0.0.1:{port}"):
            start_emulator(port=port)

    assert not patches.is_applied()


def test_other_moto_releases_are_refused(monkeypatch):
    monkeypatch.setattr(patches.metadata, "version", lambda name: "5.1.0")

    with pytest.raises(UnsupportedMotoVersion, match="needs moto 5.2.5, but moto 5.1.0"):
        patches.check_moto_version()


def test_apply_and_revert_are_idempotent():
    from moto.awslambda.models import LambdaFunction

    original = LambdaFunction.invoke
    patches.apply()
    patched = LambdaFunction.invoke
    patches.apply()
    assert LambdaFunction.invoke is patched is not original
    patches.revert()
    patches.revert()
    assert LambdaFunction.invoke is original


def test_requests_do_not_list_motos_package_directory(monkeypatch):
    from moto import backends

    listed = set(backends.list_of_moto_modules())
    package = os.path.dirname(backends.__file__)
    listings = []
    listdir = os.listdir

    def recording_listdir(path="."):
        if os.fspath(path) == package:
            listings.append(path)
        return listdir(path)

    patches.apply()
    try:
        monkeypatch.setattr(os, "listdir", recording_listdir)
        with start_emulator() as emulator:
            sns = clients_for(emulator.endpoint_url)("sns")
            # The first request loads the service model once (botocore lists its data paths,
            # moto's among them); the point is every request after it.
            assert sns.list_topics()["Topics"] == []
            started = len(listings)
            for _ in range(3):
                assert sns.list_topics()["Topics"] == []
        assert listings[started:] == []
        # The host test still knows every service directory (and nothing else).
        assert set(backends.list_of_moto_modules()) == listed
        assert "sagemaker" in backends.list_of_moto_modules()
    finally:
        monkeypatch.undo()
        patches.revert()


# Command line ----------------------------------------------------------------------------------


def test_module_entry_point_prints_the_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "smtune.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        notice = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert "SageMaker is emulated" in notice
        with urllib.request.urlopen(url + "/smtune-emulator/state", timeout=10) as response:
            assert json.loads(response.read())["endpointUrl"] == url
    finally:
        process.send_signal(signal.SIGTERM)
        remaining_stdout, _ = process.communicate(timeout=20)

    assert process.returncode == 0
    assert remaining_stdout == ""


def test_module_entry_point_reports_a_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        completed = subprocess.run(
            [sys.executable, "-m", "smtune.emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert f"port: cannot listen on 127.0.0.1:{port}" in completed.stderr
    assert "Traceback" not in completed.stderr
