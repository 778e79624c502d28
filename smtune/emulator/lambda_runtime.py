"""Run a Lambda function's real Python handler in warm worker processes of the emulator.

moto without Docker echoes the payload back instead of running code. Here the function's
deployment zip (moto keeps its bytes) is extracted once per CodeSha256 into a cache directory, and
a worker process runs the handler as a Lambda execution environment does
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): started on the
first invocation, it imports the handler once (the Init phase), then serves invocations one at a
time, keeping its module state between them. Invocations that arrive while every worker of the
function is busy start another worker, as Lambda scales out. A worker belongs to one version of
the function's code and configuration: an update starts new workers and retires the old ones.

The worker runs the function's runtime interpreter (`python3.12` on PATH for python3.12; the
emulator's own when it is that version, or when the runtime's is missing, with a notice in the
emulator's log) with the environment of `function_environment`: the function's variables, the
variables Lambda reserves, fake credentials and `AWS_ENDPOINT_URL` pointing back at the emulator,
so boto3 in the handler talks to the emulator. Requests and answers are JSON lines on pipes; what
the handler prints and logs goes to the worker's stderr, which becomes the invocation's log.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import iam

LOG = logging.getLogger(__name__)

STARTUP_ALLOWANCE_SECONDS = 10.0
"""The Init phase's limit (interpreter start, handler import). Lambda limits Init to 10 s and,
on an on-demand function, retries it within the function's timeout; the emulator allows both."""

MAX_IDLE_WORKERS = 32
"""Idle workers kept across all functions; the longest idle is stopped beyond that."""

LOG_TAIL_BYTES = 4096
LOG_WAIT_SECONDS = 5.0
"""How long to wait for the rest of an answered invocation's log on the worker's stderr."""

_END_MARK = "\x1esmtune-invocation-end "

# Runs inside the worker, on any Python from 3.8. Free of third-party imports: the handler's
# package brings its own, and boto3 comes from the emulator's environment as it comes from the
# Lambda runtime. Requests arrive as JSON lines on a copy of fd 0, answers leave on a copy of
# fd 1; fds 0 and 1 themselves are /dev/null and stderr, so nothing the handler does can garble
# the exchange. A line of `_END_MARK` on stderr closes each invocation's log.
_WORKER = r"""
import importlib, json, os, sys, time, traceback

_requests = os.fdopen(os.dup(0), "rb")
_answers = os.dup(1)
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.dup2(2, 1)
sys.stdout = sys.stderr
END_MARK = __END_MARK__


def limit_memory():
    # Best effort: the address space the interpreter holds at start plus the function's memory.
    try:
        import resource

        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        baseline = int(fields["VmSize"].split()[0]) * 1024
        limit = baseline + int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, KeyError, ValueError):
        pass


class LambdaContext:
    def __init__(self, request):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["functionArn"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request["requestId"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self._deadline = float(request["deadline"])

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def error(error_type, message, exc=None):
    frames = traceback.extract_tb(exc.__traceback__)[1:] if exc else []
    stack = traceback.format_list(frames)
    return {"error": {"errorType": error_type, "errorMessage": message, "stackTrace": stack}}


def answer(document, request_id):
    sys.stderr.write(END_MARK + request_id + "\n")
    sys.stderr.flush()
    data = (json.dumps(document) + "\n").encode("utf-8")
    while data:
        data = data[os.write(_answers, data):]


def init():
    handler = os.environ["_HANDLER"]
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        traceback.print_exc()
        return None, error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    function = getattr(module, function_name, None)
    if function is None:
        return None, error(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return function, None


def invoke(function, request):
    raw = request["event"]
    try:
        event = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return error("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}")
    try:
        result = function(event, LambdaContext(request))
    except Exception as exc:
        traceback.print_exc()
        return error(type(exc).__name__, str(exc), exc)
    try:
        return {"payload": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        return error("Runtime.MarshalError", f"Unable to marshal response: {exc}")


limit_memory()
function, failure = init()
answer(failure or {"ready": True}, "init")
if failure is None:
    for line in _requests:
        request = json.loads(line)
        answer(invoke(function, request), request["requestId"])
"""


@dataclass(frozen=True)
class Invocation:
    """What one run of a handler gave back."""

    payload: bytes
    function_error: str | None
    log: str
    request_id: str

    @property
    def log_tail_base64(self) -> str:
        tail = self.log.encode("utf-8")[-LOG_TAIL_BYTES:]
        return base64.b64encode(tail).decode("ascii")


def _error_invocation(request_id: str, error_type: str, message: str, log: str = "") -> Invocation:
    payload = {"errorType": error_type, "errorMessage": message, "stackTrace": []}
    return Invocation(json.dumps(payload).encode("utf-8"), "Unhandled", log, request_id)


def function_environment(function: Any, endpoint_url: str, code_dir: Path) -> dict[str, str]:
    """The environment of a function's worker: the emulator's own minus its AWS settings, the
    function's variables, then the variables Lambda defines for every function
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
    with fake credentials and the emulator as every service's endpoint. `function` is moto's
    `LambdaFunction`; the same function, code and configuration always give the same result
    (a change starts new workers)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "MOTO_", "_HANDLER", "LAMBDA_", "PYTHON"))
    }
    env.update({str(k): str(v) for k, v in (function.environment_vars or {}).items()})
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": function.region,
            "AWS_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": "emulated",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
            "_HANDLER": function.handler or "",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "PYTHONPATH": str(code_dir),
            "TZ": ":UTC",
        }
    )
    # The function acts as its execution role: its calls are held to the role's policies
    # (iam.py, https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
    env.update(iam.role_credentials(str(function.role)))
    return env


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs a runtime's functions."""

    path: str
    notice: str | None = None


_PROBE = """
import sys
print(sys.executable)
print("%d.%d" % sys.version_info[:2])
try:
    import boto3
    print("boto3")
except Exception as exc:
    print(type(exc).__name__)
"""


def find_interpreter(runtime: str) -> Interpreter:
    """`python3.X` on PATH for the runtime python3.X (checked by running it: it must be that
    version and import the emulator's boto3), the emulator's own Python when it is that
    version; otherwise the emulator's own with a notice saying so."""
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    version = match[1] if match else None
    if version == host:
        return Interpreter(sys.executable)
    name = f"python{version}" if version else runtime
    found = shutil.which(name) if version else None
    problem = f"no working {name} on PATH"
    if found:
        env = dict(os.environ)
        env["PYTHONPATH"] = _sdk_path() or ""
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            probe = subprocess.run(
                [found, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=30
            )
            lines = probe.stdout.split()
            if probe.returncode == 0 and len(lines) == 3 and lines[1] == version:
                if lines[2] == "boto3":
                    return Interpreter(lines[0])
                problem = f"{found} cannot import the emulator's boto3 ({lines[2]})"
    return Interpreter(
        sys.executable,
        f"Lambda runtime {runtime}: {problem}; its functions run with "
        f"{sys.executable} (Python {host}) instead.",
    )


def _sdk_path() -> str | None:
    """The directory boto3 is installed in, for a runtime interpreter that is not the
    emulator's own: the SDK the Lambda runtime includes."""
    spec = importlib.util.find_spec("boto3")
    if spec is None or spec.origin is None:
        return None
    return str(Path(spec.origin).resolve().parent.parent)


class _WorkerExited(Exception):
    pass


class _Worker:
    """One execution environment: a long-lived interpreter with the handler imported."""

    def __init__(
        self,
        key: tuple[str, int, str],
        function: Any,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
    ) -> None:
        self.key = key
        self.function = function  # keeps id(function), part of the key, unique while it lives
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        self._answers = bytearray()
        self._log = bytearray()
        self._log_done = False
        self._log_changed = threading.Condition()
        self.idle_since = 0.0
        threading.Thread(target=self._drain_log, name="lambda-worker-log", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _drain_log(self) -> None:
        assert self.process.stderr is not None
        fd = self.process.stderr.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self._log_changed:
                if not chunk:
                    self._log_done = True
                    self._log_changed.notify_all()
                    return
                self._log += chunk
                self._log_changed.notify_all()

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise _WorkerExited from None

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next answer; None when none came within `timeout` seconds."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise _WorkerExited
            self._answers += chunk
        line, _, rest = bytes(self._answers).partition(b"\n")
        self._answers = bytearray(rest)
        answer = json.loads(line)
        return answer if isinstance(answer, dict) else {}

    def take_log(self, request_id: str | None, wait: float = LOG_WAIT_SECONDS) -> str:
        """The log up to the end mark of `request_id` (waiting for it), or all there is."""
        mark = (_END_MARK + request_id + "\n").encode("utf-8") if request_id else None
        deadline = time.monotonic() + wait
        with self._log_changed:
            while mark is not None and mark not in self._log and not self._log_done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._log_changed.wait(remaining)
            if mark is not None and mark in self._log:
                text, _, rest = bytes(self._log).partition(mark)
                self._log = bytearray(rest)
            else:
                text = bytes(self._log)
                self._log = bytearray()
        return text.decode("utf-8", errors="replace")

    def exit_status(self) -> int:
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait()

    def kill(self) -> None:
        """Stop the worker and whatever it started."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class LambdaRuntime:
    """Extracts deployment packages and runs handlers in warm workers; one per running
    emulator. `close()` stops every worker."""

    def __init__(self, endpoint_url: str, cache_dir: Path) -> None:
        self.endpoint_url = endpoint_url
        self.cache_dir = cache_dir
        self._extract_lock = threading.Lock()
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._closed = False
        self._interpreters: dict[str, Interpreter] = {}

    def code_dir(self, code_sha256_hex: str, code_bytes: bytes) -> Path:
        """The extracted package for this code hash, extracting it on first use."""
        target = self.cache_dir / code_sha256_hex
        if target.is_dir():
            return target
        with self._extract_lock:
            if target.is_dir():
                return target
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=self.cache_dir))
            try:
                with zipfile.ZipFile(_bytes_file(staging, code_bytes)) as archive:
                    archive.extractall(staging / "code")
                os.replace(staging / "code", target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def interpreter(self, runtime: str) -> Interpreter:
        """The interpreter for a runtime, found once; its notice is logged once."""
        with self._lock:
            known = self._interpreters.get(runtime)
        if known is not None:
            return known
        found = find_interpreter(runtime)
        with self._lock:
            if runtime not in self._interpreters:
                self._interpreters[runtime] = found
                if found.notice:
                    LOG.warning("%s", found.notice)
            return self._interpreters[runtime]

    def invoke(self, function: Any, event: bytes, request_id: str | None = None) -> Invocation:
        """Run the handler of a moto `LambdaFunction` with `event` (JSON bytes); the retries of
        an asynchronous invocation pass its request ID."""
        request_id = request_id or str(uuid.uuid4())
        unsupported = _unsupported_reason(function)
        if unsupported:
            return _error_invocation(request_id, "Runtime.InvalidEntrypoint", unsupported)
        code_dir = self.code_dir(function.code_digest, function.code_bytes)
        timeout = float(function.timeout or 3)
        runtime = str(function.run_time or "python")
        interpreter = self.interpreter(runtime)
        env = function_environment(function, self.endpoint_url, code_dir)
        if interpreter.path != sys.executable:
            sdk = _sdk_path()
            if sdk:
                env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], sdk])
        version = hashlib.sha256(
            json.dumps(
                [function.code_digest, timeout, runtime, str(function.role), interpreter.path, env],
                sort_keys=True,
            ).encode("utf-8")
        ).hexdigest()
        key = (str(function.function_arn), id(function), version)
        worker = self._acquire(key)
        log = ""
        if worker is None:
            worker = _Worker(key, function, _worker_argv(interpreter.path), env, code_dir)
            with self._lock:
                self._busy.add(worker)
                closed = self._closed
            if closed:
                self._discard(worker)
                return _error_invocation(request_id, "ServiceException", "The emulator stopped.")
            ready = self._start(worker, request_id, timeout)
            if isinstance(ready, Invocation):
                return ready
            log = ready
        try:
            worker.send(
                {
                    "event": event.decode("utf-8", errors="replace"),
                    "requestId": request_id,
                    "functionArn": str(function.function_arn),
                    "deadline": time.time() + timeout,
                }
            )
            answer = worker.receive(timeout)
        except _WorkerExited:
            return self._exited(worker, request_id, log)
        if answer is None:
            return self._timed_out(worker, request_id, timeout, log)
        log += worker.take_log(request_id)
        self._release(worker)
        if "error" in answer:
            return Invocation(
                json.dumps(answer["error"]).encode("utf-8"), "Unhandled", log, request_id
            )
        return Invocation(str(answer.get("payload", "null")).encode("utf-8"), None, log, request_id)

    def _start(self, worker: _Worker, request_id: str, timeout: float) -> str | Invocation:
        """Wait for a new worker's Init phase: its log, or the invocation's answer when Init
        failed (the worker is then discarded, and the next invocation tries again)."""
        try:
            ready = worker.receive(STARTUP_ALLOWANCE_SECONDS + timeout)
        except _WorkerExited:
            return self._exited(worker, request_id, "")
        if ready is None:
            return self._timed_out(worker, request_id, timeout, "")
        log = worker.take_log("init")
        if "error" in ready:
            self._discard(worker)
            return Invocation(
                json.dumps(ready["error"]).encode("utf-8"), "Unhandled", log, request_id
            )
        return log

    def _exited(self, worker: _Worker, request_id: str, log: str) -> Invocation:
        status = worker.exit_status()
        log += worker.take_log(None, wait=1.0)
        self._discard(worker)
        # https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
        return _error_invocation(
            request_id,
            "Runtime.ExitError",
            f"RequestId: {request_id} Error: Runtime exited with status {status}",
            log,
        )

    def _timed_out(self, worker: _Worker, request_id: str, timeout: float, log: str) -> Invocation:
        worker.kill()
        log += worker.take_log(None, wait=1.0)
        self._discard(worker)
        return _error_invocation(
            request_id, "Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds", log
        )

    def _acquire(self, key: tuple[str, int, str]) -> _Worker | None:
        """An idle worker of this function version, or None; retires the idle workers of the
        function's other versions and of functions deleted since (or dropped by a reset)."""
        retired: list[_Worker] = []
        chosen: _Worker | None = None
        with self._lock:
            keep: list[_Worker] = []
            for worker in self._idle:
                if (
                    (worker.key[0] == key[0] and worker.key != key)
                    or not worker.alive
                    or not _is_current(worker.function)
                ):
                    retired.append(worker)
                elif chosen is None and worker.key == key:
                    chosen = worker
                else:
                    keep.append(worker)
            self._idle = keep
            if chosen is not None:
                self._busy.add(chosen)
        for worker in retired:
            worker.kill()
        return chosen

    def _release(self, worker: _Worker) -> None:
        surplus: list[_Worker] = []
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                surplus.append(worker)
            else:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
                if len(self._idle) > MAX_IDLE_WORKERS:
                    self._idle.sort(key=lambda w: w.idle_since)
                    surplus = self._idle[: len(self._idle) - MAX_IDLE_WORKERS]
                    self._idle = self._idle[len(surplus) :]
        for extra in surplus:
            extra.kill()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._busy.discard(worker)

    def workers(self) -> int:
        """How many workers are running (idle or busy)."""
        with self._lock:
            return sum(1 for worker in [*self._idle, *self._busy] if worker.alive)

    def close(self) -> None:
        """Stop every worker; later invocations start none."""
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle = []
        for worker in workers:
            worker.kill()


def _is_current(function: Any) -> bool:
    """Whether moto still holds this function object (not deleted, not reset away)."""
    from moto.awslambda.utils import get_backend

    try:
        backend = get_backend(function.account_id, function.region)
        return bool(backend.get_function(function.function_arn) is function)
    except Exception:
        return False


def _worker_argv(interpreter: str) -> list[str]:
    return [interpreter, "-u", "-c", _WORKER.replace("__END_MARK__", repr(_END_MARK))]


def _unsupported_reason(function: Any) -> str | None:
    if getattr(function, "package_type", "Zip") != "Zip" or not function.code_bytes:
        return (
            f"The emulator runs only zip-packaged Python functions; "
            f"{function.function_name} has no zip package."
        )
    runtime = function.run_time or "python"
    if not runtime.startswith("python"):
        return f"The emulator runs only Python handlers; {function.function_name} uses {runtime}."
    return None


def _bytes_file(directory: Path, data: bytes) -> Path:
    path = directory / "package.zip"
    path.write_bytes(data)
    return path
