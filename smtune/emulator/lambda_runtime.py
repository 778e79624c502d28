"""Run a Lambda function's real Python handler in a subprocess of the emulator.

moto without Docker echoes the payload back instead of running code. Here the function's
deployment zip (moto keeps its bytes) is extracted once per CodeSha256 into a cache directory and
the handler runs in `sys.executable` with the function's environment, fake credentials and
`AWS_ENDPOINT_URL` pointing back at the emulator, so boto3 in the handler talks to the emulator.
The event goes in on stdin; a JSON envelope with the result or the error comes back on stdout
(the handler's own prints and logs go to stderr, which becomes the function's log).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
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

STARTUP_ALLOWANCE_SECONDS = 10.0
"""Added to the function's Timeout: interpreter start and boto3 import on a busy machine."""

LOG_TAIL_BYTES = 4096

# Runs inside the subprocess. Kept free of third-party imports: the handler's package brings
# its own, and boto3 comes from the emulator's environment as it comes from the Lambda runtime.
_RUNNER = r"""
import importlib, json, os, sys, time, traceback, uuid

_result_stream = sys.stdout
sys.stdout = sys.stderr


class LambdaContext:
    def __init__(self):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = os.environ["SMTUNE_EMULATOR_FUNCTION_ARN"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = os.environ["SMTUNE_EMULATOR_REQUEST_ID"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = "emulated"
        self._deadline = float(os.environ["SMTUNE_EMULATOR_DEADLINE"])

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def error(error_type, message, exc=None):
    frames = traceback.extract_tb(exc.__traceback__)[1:] if exc else []
    stack = traceback.format_list(frames)
    return {"error": {"errorType": error_type, "errorMessage": message, "stackTrace": stack}}


def run():
    handler = os.environ["_HANDLER"]
    module_name, _, function_name = handler.rpartition(".")
    raw = sys.stdin.buffer.read()
    event = json.loads(raw) if raw.strip() else {}
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        traceback.print_exc()
        return error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    function = getattr(module, function_name, None)
    if function is None:
        return error(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    try:
        result = function(event, LambdaContext())
    except Exception as exc:
        traceback.print_exc()
        return error(type(exc).__name__, str(exc), exc)
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return {"result": result}


envelope = run()
_result_stream.write(json.dumps(envelope))
_result_stream.flush()
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


class LambdaRuntime:
    """Extracts deployment packages and runs handlers; one per running emulator."""

    def __init__(self, endpoint_url: str, cache_dir: Path) -> None:
        self.endpoint_url = endpoint_url
        self.cache_dir = cache_dir
        self._extract_lock = threading.Lock()

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

    def environment(self, function: Any, request_id: str, deadline: float) -> dict[str, str]:
        """The subprocess environment: the function's variables over a clean AWS context."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "MOTO_", "_HANDLER", "LAMBDA_"))
        }
        env.update({str(k): str(v) for k, v in (function.environment_vars or {}).items()})
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": function.region,
                "AWS_REGION": function.region,
                "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": function.logs_group_name,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
                "_HANDLER": function.handler or "",
                "SMTUNE_EMULATOR_FUNCTION_ARN": function.function_arn,
                "SMTUNE_EMULATOR_REQUEST_ID": request_id,
                "SMTUNE_EMULATOR_DEADLINE": str(deadline),
            }
        )
        return env

    def invoke(self, function: Any, event: bytes, request_id: str | None = None) -> Invocation:
        """Run the handler of a moto `LambdaFunction` with `event` (JSON bytes); the retries of
        an asynchronous invocation pass its request ID."""
        request_id = request_id or str(uuid.uuid4())
        unsupported = _unsupported_reason(function)
        if unsupported:
            return _error_invocation(request_id, "Runtime.InvalidEntrypoint", unsupported)
        code_dir = self.code_dir(function.code_digest, function.code_bytes)
        timeout = float(function.timeout or 3)
        env = self.environment(function, request_id, deadline=time.time() + timeout)
        env["LAMBDA_TASK_ROOT"] = str(code_dir)
        env["PYTHONPATH"] = str(code_dir)
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _RUNNER],
                input=event,
                capture_output=True,
                cwd=code_dir,
                env=env,
                timeout=timeout + STARTUP_ALLOWANCE_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            log = _decode(expired.stderr)
            return _error_invocation(
                request_id, "Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds", log
            )
        log = _decode(completed.stderr)
        try:
            envelope = json.loads(completed.stdout)
        except ValueError:
            return _error_invocation(
                request_id,
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with status {completed.returncode}",
                log,
            )
        if "error" in envelope:
            error = json.dumps(envelope["error"]).encode("utf-8")
            return Invocation(error, "Unhandled", log, request_id)
        return Invocation(json.dumps(envelope["result"]).encode("utf-8"), None, log, request_id)


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


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data
