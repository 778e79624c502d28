"""Start and stop the emulator: moto's server in this process, patched, with a control API.

    from smtune.emulator import start_emulator

    with start_emulator() as emulator:          # a free loopback port
        boto3.client("sagemaker", endpoint_url=emulator.endpoint_url, ...)
        emulator.queue_tuning_job_outcome("Failed", "ResourceLimitExceeded: ...")

moto keeps its state in process-wide globals, so one emulator runs per process at a time. While
it runs, don't use moto's `mock_aws` in the same process: it resets the same globals.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import urllib.request
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Callable

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from . import faults, iam, patches
from .control import CONTROL, AlgorithmImages, ControlError
from .lambda_runtime import LambdaRuntime

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
CONTROL_PREFIX = "/smtune-emulator/"

_running: Emulator | None = None
_running_lock = threading.Lock()

StartResponse = Callable[..., Any]


class EmulatorError(RuntimeError):
    """The emulator cannot start or stop; the message says why."""


class _PatchedMotoServer(ThreadedMotoServer):
    """moto's threaded server with the control routes in front, on a socket bound up front.

    Binding here (not in werkzeug, which calls sys.exit in its thread when the port is busy)
    turns a busy port into an OSError for the caller.
    """

    def __init__(self, host: str, port: int, emulator: Emulator) -> None:
        super().__init__(ip_address=host, port=port, verbose=False)
        self._emulator = emulator
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self._socket = socket.socket(family, kind, proto)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(address)
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self._port = self._socket.getsockname()[1]

    def _server_entry(self) -> None:
        app = _ControlApp(DomainDispatcherApplication(create_backend_app), self._emulator)
        self._server = make_server(
            self._ip_address,
            self._port,
            app,
            True,
            request_handler=MotoRequestHandler,
            fd=self._socket.fileno(),
        )
        self._server_ready_event.set()
        self._server.serve_forever()

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self._socket.close()


class _ControlApp:
    """WSGI middleware: `/smtune-emulator/...` routes here, queued API errors are answered here,
    everything else goes to moto."""

    def __init__(self, moto_app: Any, emulator: Emulator) -> None:
        self._moto_app = moto_app
        self._emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        for observe in self._emulator.request_observers:
            observe(environ)
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self._emulator.prepare_reset()
        if not path.startswith("/moto-api/"):
            # A role's call its policies refuse is answered AccessDenied before anything else.
            denied = iam.denial_response(environ)
            if denied is not None:
                start_response(denied[0], denied[1])
                return [denied[2]]
        if not path.startswith("/moto-api/") and CONTROL.has_api_errors():
            injected = self._queued_api_error(environ, start_response)
            if injected is not None:
                return injected
        return self._moto_app(environ, start_response)

    def _queued_api_error(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> list[bytes] | None:
        """The queued error of this request's service and operation, answered as AWS does."""
        request = faults.identify(environ)
        error = CONTROL.take_api_error(*request) if request is not None else None
        if error is None:
            return None
        status, headers, body = faults.render(
            error, str(uuid.uuid4()), environ.get("REQUEST_METHOD", "POST")
        )
        start_response(status, headers)
        return [body]

    def _control(
        self, environ: dict[str, Any], start_response: StartResponse, route: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if route == "state" and method == "GET":
                return _json(start_response, 200, self._emulator.state())
            handler = _ROUTES.get(route.strip("/"))
            if handler is None:
                return _json(start_response, 404, {"message": f"path: no control route {route!r}"})
            if method != "POST":
                return _json(start_response, 405, {"message": f"method: {route} accepts POST"})
            body = _read_json(environ)
            return _json(start_response, 200, handler(self._emulator, body))
        except ControlError as error:
            return _json(start_response, 400, {"message": str(error)})


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError("body: must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError("body: must be a JSON object")
    return body


def _fields(body: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ControlError(f"{unknown[0]}: unknown field (accepted: {', '.join(allowed)})")
    return body


def _json(start_response: StartResponse, status: int, document: Any) -> list[bytes]:
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
    payload = json.dumps(document).encode("utf-8")
    start_response(
        f"{status} {reasons[status]}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def _given(body: dict[str, Any], name: str, default: Any = None) -> Any:
    """A field of a control request, as given: the control's setters check it and name it."""
    return body.get(name, default)


def _route_tuning_outcomes(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("status", "failureReason", "times"))
    emulator.queue_tuning_job_outcome(
        _given(body, "status"), _given(body, "failureReason"), _given(body, "times", 1)
    )
    return emulator.control_state()


def _route_best_objectives(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("value",))
    emulator.queue_best_objective(_given(body, "value"))
    return emulator.control_state()


def _route_training_jobs(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("count", "failed"))
    emulator.set_training_jobs(_given(body, "count"), _given(body, "failed", 0))
    return emulator.control_state()


def _route_endpoint_outcomes(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("outcome", "failureReason", "times"))
    emulator.queue_endpoint_outcome(
        _given(body, "outcome"), _given(body, "failureReason"), _given(body, "times", 1)
    )
    return emulator.control_state()


def _route_progression(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("describes",))
    emulator.set_progression(_given(body, "describes"))
    return emulator.control_state()


def _route_algorithms(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("name", "inferenceImage", "trainingImage"))
    images = emulator.register_algorithm(
        _given(body, "name"), _given(body, "inferenceImage"), _given(body, "trainingImage")
    )
    return {
        "name": images.name,
        "inferenceImage": images.inference_image,
        "trainingImage": images.training_image,
    }


def _route_api_errors(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    body = _fields(body, ("service", "operation", "code", "message", "times"))
    emulator.queue_api_error(
        _given(body, "service"),
        _given(body, "operation"),
        _given(body, "code"),
        _given(body, "times", 1),
        _given(body, "message"),
    )
    return emulator.control_state()


def _route_reset(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    _fields(body, ())
    emulator.reset()
    return emulator.control_state()


_ROUTES: dict[str, Callable[[Emulator, dict[str, Any]], dict[str, Any]]] = {
    "tuning-job-outcomes": _route_tuning_outcomes,
    "best-objectives": _route_best_objectives,
    "training-jobs": _route_training_jobs,
    "endpoint-outcomes": _route_endpoint_outcomes,
    "progression": _route_progression,
    "algorithms": _route_algorithms,
    "api-errors": _route_api_errors,
    "reset": _route_reset,
}


def _abort_running_executions() -> None:
    """Stop every running state machine execution so no worker thread outlives the state."""
    import datetime

    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    now = datetime.datetime.now(tz=datetime.timezone.utc)
    for account_backends in list(stepfunctions_parser_backends.values()):
        for backend in list(account_backends.values()):
            for execution in backend._get_executions(ExecutionStatus.RUNNING):
                execution.stop(
                    stop_date=now, error="Emulator.Reset", cause="The emulator was reset."
                )


class Emulator:
    """A running emulator: its URL, its lifecycle and the control API (see control.py)."""

    def __init__(self, host: str, work_dir: Path, owns_work_dir: bool) -> None:
        self.host = host
        self.port = 0
        self.work_dir = work_dir
        self._owns_work_dir = owns_work_dir
        self._server: _PatchedMotoServer | None = None
        self._saved_moto_port: str | None = None
        self._saved_config: dict[str, Any] = {}
        self._stopped = False
        # Called with the WSGI environ of every request but the control routes', before it is
        # answered (benchmarks/plan_cost.py counts requests with it); must not read the body.
        self.request_observers: list[Callable[[dict[str, Any]], None]] = []

    @property
    def endpoint_url(self) -> str:
        """The URL every AWS client points at (`--endpoint-url`, `AWS_ENDPOINT_URL`)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped

    # Lifecycle ---------------------------------------------------------------------------------

    def _start(self, port: int) -> None:
        from moto.core.config import default_user_config

        try:
            server = _PatchedMotoServer(self.host, port, self)
        except OSError as error:
            raise EmulatorError(
                f"port: cannot listen on {self.host}:{port}: {error.strerror or error}"
            ) from None
        server.start()
        self._server = server
        self.port = int(server.get_host_and_port()[1])
        self._saved_moto_port = os.environ.get("MOTO_PORT")
        # The Step Functions engine calls services back at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._saved_config = {key: default_user_config.get(key) for key in MOTO_CONFIG}
        self._post("/moto-api/reset", {})
        self._post("/moto-api/config", MOTO_CONFIG)
        patches.set_lambda_runtime(LambdaRuntime(self.endpoint_url, self.work_dir / "lambda"))
        CONTROL.reset()

    def _post(self, path: str, document: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=json.dumps(document).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        """Abort running executions, shut the server down and restore moto (idempotent)."""
        global _running
        with _running_lock:
            if self._stopped:
                return
            self._stopped = True
            try:
                _abort_running_executions()
            finally:
                if self._server is not None:
                    self._server.stop()
                self._restore_process_state()
                if _running is self:
                    _running = None

    def _restore_process_state(self) -> None:
        from moto.core.config import default_user_config

        patches.set_lambda_runtime(None)
        patches.revert()
        for key, value in self._saved_config.items():
            if value is None:
                default_user_config.pop(key, None)  # type: ignore[misc]
            else:
                default_user_config[key] = value  # type: ignore[literal-required]
        if self._server is not None:
            if self._saved_moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._saved_moto_port
        if self._owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def prepare_reset(self) -> None:
        """What a reset needs before moto drops its state: no running executions, no settings."""
        _abort_running_executions()
        CONTROL.reset()
        iam.reset()

    def reset(self) -> None:
        """Clear every resource and every control setting; the emulator keeps running."""
        from moto.moto_api._internal.models import moto_api_backend

        self.prepare_reset()
        moto_api_backend.reset()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Control API -------------------------------------------------------------------------------

    def queue_tuning_job_outcome(
        self, status: str, failure_reason: str | None = None, times: int = 1
    ) -> None:
        """The next `times` tuning jobs end Completed, Failed (with the reason) or Stopped."""
        CONTROL.queue_tuning_job_outcome(status, failure_reason, times)

    def queue_best_objective(self, value: float) -> None:
        """The next tuning job's best training job reports exactly `value`; its other training
        jobs report worse values (by the job's objective type)."""
        CONTROL.queue_best_objective(value)

    def set_training_jobs(self, count: int, failed: int = 0) -> None:
        """Each tuning job runs min(MaxNumberOfTrainingJobs, count) jobs; the last `failed` fail."""
        CONTROL.set_training_jobs(count, failed)

    def queue_endpoint_outcome(
        self, outcome: str, failure_reason: str | None = None, times: int = 1
    ) -> None:
        """The next `times` CreateEndpoint/UpdateEndpoint calls end InService, RolledBack or
        Failed."""
        CONTROL.queue_endpoint_outcome(outcome, failure_reason, times)

    def set_progression(self, describes: int) -> None:
        """Jobs and deployments stay in progress for `describes` Describe calls (0: at once)."""
        CONTROL.set_progression(describes)

    def register_algorithm(
        self, name: str, inference_image: str, training_image: str | None = None
    ) -> AlgorithmImages:
        """DescribeAlgorithm of `name` (or an ARN ending in `/name`) returns these images."""
        return CONTROL.register_algorithm(name, inference_image, training_image)

    def queue_api_error(
        self,
        service: str,
        operation: str,
        code: str,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """The next `times` requests of `operation` (an API name) to `service` (botocore's name)
        fail with `code`, answered in the service's protocol with its HTTP status."""
        CONTROL.queue_api_error(service, operation, code, times, message)

    def control_state(self) -> dict[str, Any]:
        """The queued outcomes and current settings."""
        return CONTROL.snapshot()

    def state(self) -> dict[str, Any]:
        return {"endpointUrl": self.endpoint_url, "control": self.control_state()}


def start_emulator(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    work_dir: str | os.PathLike[str] | None = None,
    request_log: bool = False,
) -> Emulator:
    """Start moto's server in this process with the emulation patches, ready for clients.

    `port` 0 picks a free port. Before returning, moto is reset and configured to execute state
    machines and to run Lambda code without Docker; `MOTO_PORT` is set to the real port so the
    Step Functions engine can call services back. Lambda packages are extracted under
    `work_dir` (a temporary directory removed on stop when not given). `request_log` keeps
    werkzeug's per-request log lines on stderr.
    """
    global _running
    with _running_lock:
        if _running is not None:
            raise EmulatorError(
                f"an emulator already runs in this process at {_running.endpoint_url}; "
                "stop it first"
            )
        patches.apply()
        owns_work_dir = work_dir is None
        directory = Path(
            tempfile.mkdtemp(prefix="smtune-emulator-") if work_dir is None else work_dir
        )
        emulator = Emulator(host, directory, owns_work_dir)
        if not request_log:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        try:
            emulator._start(port)
        except BaseException:
            emulator._stopped = True
            if emulator._server is not None:
                emulator._server.stop()
            emulator._restore_process_state()
            raise
        _running = emulator
        return emulator
