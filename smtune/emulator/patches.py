"""The patches that fill moto 5.2.5's gaps, applied while an emulator runs.

Each `_patch_*` function fills one gap and says which in its docstring. They replace attributes
through `_replace`, which records the original so `revert()` restores moto exactly. The layer
relies on moto internals, so `apply()` refuses any moto release other than the pinned one.
"""

from __future__ import annotations

import datetime
import inspect
import json
import threading
import uuid
from importlib import metadata
from typing import Any, Callable

from . import lambda_async
from .lambda_runtime import Invocation, LambdaRuntime

SUPPORTED_MOTO_VERSION = "5.2.5"

_MISSING = object()
_originals: list[tuple[Any, str, Any]] = []
_lock = threading.RLock()
_lambda_runtime: LambdaRuntime | None = None


class UnsupportedMotoVersion(RuntimeError):
    """The installed moto is not the release this layer was written against."""


def check_moto_version() -> None:
    try:
        installed = metadata.version("moto")
    except metadata.PackageNotFoundError:
        installed = None
    if installed != SUPPORTED_MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"moto: the emulator patches moto internals and needs moto {SUPPORTED_MOTO_VERSION}, "
            f"but {'no moto' if installed is None else 'moto ' + installed} is installed. "
            f"Install it with: pip install 'moto[server]=={SUPPORTED_MOTO_VERSION}'"
        )


def _replace(owner: Any, name: str, value: Any) -> None:
    """Set `owner.name` (or `owner[name]` for a dict), remembering what was there."""
    if isinstance(owner, dict):
        _originals.append((owner, name, owner.get(name, _MISSING)))
        owner[name] = value
    else:
        _originals.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)


def _bound_arguments(function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    return dict(inspect.signature(function).bind(*args, **kwargs).arguments)


# 1. Step Functions: states:startExecution, execution names and outputs ----------------------


def _patch_start_execution_task() -> None:
    """`arn:aws:states:::states:startExecution` (plain, .sync, .sync:2) fails in moto with
    KeyError 'StateMachineArn': the engine hands botocore the ASL's PascalCase keys and reads
    botocore's camelCase response as if it were PascalCase. Requests are camelCased for botocore;
    the start response and the .sync/.sync:2 results are PascalCased as AWS returns them (.sync:2
    Output parsed JSON, .sync Output a string). A failed child fails the parent's task with
    States.TaskFailed and the child's description as cause (moto's resolver, now reachable).
    Stopping the parent while its .sync/.sync:2 task waits stops the child, as AWS does; moto
    leaves the child running. The child is followed by sfn_tasks.ChildExecutionResolver.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_sfn as module,
    )

    from .sfn_tasks import (
        ChildExecutionResolver,
        child_execution_resolver,
        sfn_request_keys,
        sfn_response_keys,
    )

    service = module.StateTaskServiceSfn
    original_parameters = service._normalise_parameters
    original_eval_sync = service._eval_sync

    def _normalise_parameters(
        self: Any,
        parameters: dict,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        original_parameters(self, parameters, boto_service_name, service_action_name)
        if service_action_name is None:
            sfn_request_keys(parameters)

    def _normalise_response(
        self: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        sfn_response_keys(response)

    def following_the_child(sync2: bool) -> Callable[..., Any]:
        def build_resolver(
            self: Any,
            env: Any,
            resource_runtime_part: Any,
            normalised_parameters: dict,
            state_credentials: Any,
        ) -> Any:
            started = env.stack.pop()  # the StartExecution response
            return child_execution_resolver(
                env,
                self,
                resource_runtime_part.region,
                started["ExecutionArn"],
                sync2,
                getattr(state_credentials, "role_arn", None),
            )

        return build_resolver

    def _eval_sync(
        self: Any,
        env: Any,
        sync_resolver: Any,
        timeout_seconds: int | None,
        callback_endpoint: Any,
        heartbeat_endpoint: Any,
    ) -> Any:
        try:
            return original_eval_sync(
                self,
                env=env,
                sync_resolver=sync_resolver,
                timeout_seconds=timeout_seconds,
                callback_endpoint=callback_endpoint,
                heartbeat_endpoint=heartbeat_endpoint,
            )
        finally:
            if not env.is_running() and isinstance(sync_resolver, ChildExecutionResolver):
                sync_resolver.stop_child()

    _replace(service, "_normalise_parameters", _normalise_parameters)
    _replace(service, "_normalise_response", _normalise_response)
    _replace(service, "_build_sync_resolver", following_the_child(sync2=False))
    _replace(service, "_build_sync2_resolver", following_the_child(sync2=True))
    _replace(service, "_eval_sync", _eval_sync)


def _patch_execution_names() -> None:
    """moto's executing backend names an execution started without a name `None`, so the second
    unnamed StartExecution of a state machine (a parent starting its child twice) fails with
    ExecutionAlreadyExists. AWS generates a UUID; so does this patch.
    """
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        # moto's own signature types these str, though None reaches it when not given.
        return original(
            self,
            state_machine_arn,
            name or str(uuid.uuid4()),
            execution_input,  # type: ignore[arg-type]
            trace_header,  # type: ignore[arg-type]
        )

    _replace(StepFunctionsParserBackend, "start_execution", start_execution)


def _patch_execution_output() -> None:
    """An execution whose output holds a timestamp (`$$.Execution.StartTime`, an aws-sdk
    response) makes moto's DescribeExecution fail with HTTP 500, and moto marks an execution
    SUCCEEDED before it stores the output, so a poller can see SUCCEEDED without output. The
    output is made JSON-safe and stored before the status changes.
    """
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.program_state import (
        ProgramEnded,
        ProgramError,
        ProgramStopped,
        ProgramTimedOut,
    )
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    from .sfn_tasks import json_safe

    def _reflect_execution_status(self: Any) -> None:
        execution = self.execution
        program_state = execution.exec_worker.env.program_state()
        if isinstance(program_state, ProgramEnded):
            execution.output = json_safe(execution.exec_worker.env.states.get_input())
            status = ExecutionStatus.SUCCEEDED
        elif isinstance(program_state, ProgramStopped):
            status = ExecutionStatus.ABORTED
        elif isinstance(program_state, ProgramError):
            details = program_state.error or {}
            execution.error = details.get("error")
            execution.cause = details.get("cause")
            status = ExecutionStatus.FAILED
        elif isinstance(program_state, ProgramTimedOut):
            status = ExecutionStatus.TIMED_OUT
        else:
            raise RuntimeWarning(
                f"Execution ended with unsupported ProgramState type '{type(program_state)}'."
            )
        execution.stop_date = datetime.datetime.now(tz=datetime.timezone.utc)
        execution.exec_status = status

    _replace(
        BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status
    )


def _patch_stop_execution() -> None:
    """moto's StopExecution drops the request's `error` and `cause`: the ExecutionAborted event
    carries empty strings. AWS records them there
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_ExecutionAbortedEventDetails.html).
    """
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.stepfunctions.responses import StepFunctionResponse

    def stop_execution(self: Any) -> Any:
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        execution.stop(
            stop_date=utcnow(), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return ActionResult({"stopDate": execution.stop_date})

    _replace(StepFunctionResponse, "stop_execution", stop_execution)


def _patch_stop_before_first_state() -> None:
    """moto runs an execution's program only while it is running: a StopExecution that lands
    between the execution's start and its first state marks it ABORTED, but its history ends
    at ExecutionStarted, with no ExecutionAborted event. On AWS every ended execution's history
    ends with the event of how it ended
    (https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html).
    The program's body already records that event when it finds the program no longer running,
    so a program stopped before its first state runs the body too.
    """
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.utils import TMP_THREADS

    def run(program: Any, env: Any) -> None:
        if env.is_running():
            EvalComponent.eval(program, env)
        else:
            program._eval_body(env)

    def eval(self: Any, env: Any) -> None:
        timeout = self.timeout_seconds.timeout_seconds if self.timeout_seconds else None
        env.next_state_name = self.start_at.start_at_name
        worker = threading.Thread(target=run, args=(self, env), daemon=True)
        TMP_THREADS.append(worker)
        worker.start()
        worker.join(timeout=timeout)
        if worker.is_alive():
            env.set_timed_out()

    _replace(Program, "eval", eval)


def _patch_task_tokens() -> None:
    """`.waitForTaskToken` tasks: moto accepts SendTaskSuccess for a task that timed out or was
    answered already, answers InvalidToken for one whose execution ended, drops SendTaskFailure's
    `cause`, and keeps a stopped execution's task waiting until its timeout. Tokens are answered
    as Step Functions documents (see sfn_callbacks), and stopping the execution ends the wait.
    """
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    from . import sfn_callbacks

    def _eval_wait_for_task_token(
        self: Any,
        env: Any,
        timeout_seconds: int,
        callback_endpoint: Any,
        heartbeat_endpoint: Any,
    ) -> Any:
        if heartbeat_endpoint is not None:
            outcome = self._wait_for_task_token_heartbeat(
                env, callback_endpoint, heartbeat_endpoint
            )
            if outcome is None:
                return sfn_callbacks.CallbackOutcomeTimedOut(
                    callback_id=callback_endpoint.callback_id
                )
            return outcome
        return sfn_callbacks.wait_for_task_token(env, timeout_seconds, callback_endpoint)

    def send_task_success(self: Any, task_token: str, outcome: str) -> None:
        sfn_callbacks.send_task_success(self, task_token, outcome)

    def send_task_failure(
        self: Any, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        sfn_callbacks.send_task_failure(self, task_token, error, cause)

    def send_task_failure_response(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    _replace(StateTaskServiceCallback, "_eval_wait_for_task_token", _eval_wait_for_task_token)
    _replace(StepFunctionsParserBackend, "send_task_success", send_task_success)
    _replace(StepFunctionsParserBackend, "send_task_failure", send_task_failure)
    _replace(StepFunctionResponse, "send_task_failure", send_task_failure_response)


def _patch_task_credentials() -> None:
    """moto's engine signs every task's call with the fixed key "ak", whatever the state
    machine's role. Step Functions calls services with the state machine's role
    (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html), so
    the calls are signed with that role's credentials (iam.role_credentials) and its policies
    decide them.
    """
    import sys

    # The modules that call it, imported so that their name for it is replaced.
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: F401
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: F401
        state_task_service_aws_sdk,
        state_task_service_sfn,
        state_task_service_sns,
        state_task_service_sqs,
    )
    from moto.stepfunctions.parser.asl.utils import boto_client as module

    from . import iam, sfn_tasks

    original = module.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        client = original(region=region, service=service, state_credentials=state_credentials)
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            return client
        import boto3

        keys = iam.role_credentials(str(role_arn))
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=client.meta.endpoint_url,
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys["AWS_SESSION_TOKEN"],
            config=client.meta.config,
        )

    owners = [module, sfn_tasks] + [
        loaded
        for name, loaded in list(sys.modules.items())
        if name.startswith("moto.stepfunctions.parser.") and hasattr(loaded, "boto_client_for")
    ]
    for owner in dict.fromkeys(owners):
        if getattr(owner, "boto_client_for", None) is original:
            _replace(owner, "boto_client_for", boto_client_for)


# 2. aws-sdk integrations ----------------------------------------------------------------------


def _patch_aws_sdk_services() -> None:
    """`aws-sdk:applicationautoscaling:*` fails in moto with "Unknown service:
    'applicationautoscaling'": the engine maps only sfn/states to botocore names. It is mapped
    to botocore's `application-autoscaling`.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    overrides = StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES
    _replace(overrides, "applicationautoscaling", "application-autoscaling")


def _patch_aws_sdk_errors_and_results() -> None:
    """moto names every aws-sdk client error `<api>.<api>Exception` in lower case
    (`sagemaker.sagemakerException`) and leaves datetimes in results. AWS names a modelled error
    `SageMaker.ResourceNotFoundException` / `ApplicationAutoScaling.ValidationException` and an
    unmodelled one `SageMaker.SageMakerException`; results become JSON-safe (ISO-8601 times).
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as module,
    )

    from .sfn_tasks import make_json_safe_in_place, sdk_error_name

    labels = {"sagemaker": "SageMaker", "applicationautoscaling": "ApplicationAutoScaling"}
    botocore_names = {"SageMaker": "sagemaker", "ApplicationAutoScaling": "application-autoscaling"}
    for api_name, label in labels.items():
        _replace(module._SERVICE_ERROR_NAMES, api_name, label)

    service = module.StateTaskServiceAwsSdk
    original_name = service._normalise_exception_name

    def _normalise_exception_name(norm_service_name: str, ex: Exception) -> str:
        botocore_name = botocore_names.get(norm_service_name)
        if botocore_name is None or not hasattr(ex, "response"):
            return original_name(norm_service_name, ex)
        code = str(ex.response.get("Error", {}).get("Code", ""))
        return sdk_error_name(
            norm_service_name, botocore_name, code, f"{norm_service_name}Exception"
        )

    def _normalise_response(
        self: Any,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        make_json_safe_in_place(response)

    _replace(service, "_normalise_exception_name", staticmethod(_normalise_exception_name))
    _replace(service, "_normalise_response", _normalise_response)


def _patch_task_request_rules() -> None:
    """moto's engine sends every task's request with botocore's validation off, and moto's
    backends accept what the services refuse. Each engine client now refuses, before sending,
    what its service would refuse (see request_rules), answered with the service's error.
    """
    import importlib

    from . import request_rules

    base = "moto.stepfunctions.parser.asl.component.state.exec.state_task"
    modules = [f"{base}.lambda_eval_utils", "smtune.emulator.sfn_tasks"] + [
        f"{base}.service.state_task_service_{name}"
        for name in ("aws_sdk", "sns", "sfn", "sqs", "events", "dynamodb", "glue", "ecs", "batch")
    ]
    for name in modules:
        module = importlib.import_module(name)
        make_client = module.boto_client_for

        def validating_client(*args: Any, _make: Any = make_client, **kwargs: Any) -> Any:
            return request_rules.enforce_on(_make(*args, **kwargs))

        _replace(module, "boto_client_for", validating_client)


# 3. Lambda ------------------------------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key in (name, name.lower(), name.title()):
        value = headers.get(key)
        if value:
            return str(value)
    return None


def _save_log(function: Any, invocation: Invocation) -> None:
    text = (
        f"START RequestId: {invocation.request_id} Version: $LATEST\n"
        f"{invocation.log}"
        f"END RequestId: {invocation.request_id}"
    )
    function.logs_backend.ensure_log_group(function.logs_group_name)
    function.save_logs(text)


def _queue_event(runtime: LambdaRuntime, function: Any, event: bytes) -> str:
    """Invoke asynchronously (InvocationType Event, an S3 notification): retries and
    destinations as lambda_async describes. Returns the request ID."""
    from moto.awslambda.utils import get_backend

    def run(request_id: str) -> Invocation:
        invocation = runtime.invoke(function, event, request_id)
        _save_log(function, invocation)
        return invocation

    def is_live() -> bool:
        # Nothing runs once the emulator stopped or reset, or the function was deleted.
        if _lambda_runtime is not runtime:
            return False
        try:
            backend = get_backend(function.account_id, function.region)
            return backend.get_function(function.function_arn) is function
        except Exception:
            return False

    def log(text: str) -> None:
        function.logs_backend.ensure_log_group(function.logs_group_name)
        function.save_logs(text)

    return lambda_async.AsyncInvocation(function, event, run, is_live, log).start()


def _patch_lambda_invoke() -> None:
    """moto runs Lambda code only in Docker; without it the simple backend echoes the payload
    back and S3 notifications to a Lambda do nothing. Here every invocation (API, Step
    Functions task, S3 notification) runs the function's real handler from its zip in a
    subprocess (see lambda_runtime); a raised exception becomes FunctionError "Unhandled" with
    {errorType, errorMessage, stackTrace}, so Step Functions sees errorType as the error name.
    The handler's output goes to the function's CloudWatch log group. moto's own queue of
    canned results (/moto-api/static/lambda-simple/response) still wins when filled.
    """
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original_invoke = LambdaFunction.invoke

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
        runtime = _lambda_runtime
        if runtime is None:
            return original_invoke(self, body, request_headers, response_headers)
        event = body.encode("utf-8") if isinstance(body, str) else (body or b"{}")
        invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if invocation_type == "Event":
            _queue_event(runtime, self, event)
            return b""
        invocation = runtime.invoke(self, event)
        _save_log(self, invocation)
        if invocation.function_error:
            response_headers["x-amz-function-error"] = invocation.function_error
        response_headers["x-amz-log-result"] = invocation.log_tail_base64
        return invocation.payload

    original_simple_invoke = LambdaSimpleBackend.invoke

    def simple_invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        if self.lambda_simple_results_queue or _lambda_runtime is None:
            return original_simple_invoke(
                self, function_name, qualifier, body, headers, response_headers
            )
        return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)

    _replace(LambdaFunction, "invoke", invoke)
    _replace(LambdaSimpleBackend, "invoke", simple_invoke)


def _patch_lambda_async_sources() -> None:
    """moto invokes a function from an S3 notification synchronously inside PutObject, and
    ignores the event invoke config. S3 invokes functions asynchronously
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html,
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html): the notification is
    queued like an InvocationType Event call, with retries and the on-failure destination.
    moto's PutFunctionEventInvokeConfig appends a config and Get answers the first one; AWS's
    Put replaces the config and Update changes only the fields it is given
    (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionEventInvokeConfig.html).
    """
    import moto.s3.notifications as s3_notifications
    from moto.awslambda.models import EventInvokeConfig, LambdaBackend
    from moto.awslambda.utils import get_backend

    original_invoke_from_s3 = s3_notifications._invoke_awslambda

    def invoke_from_s3(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
        runtime = _lambda_runtime
        if runtime is None:
            original_invoke_from_s3(account_id, event_body, fn_arn, region_name)
            return
        try:
            function = get_backend(account_id, region_name).get_function(fn_arn)
        except Exception:
            # A missing function does not fail the upload: S3 delivers asynchronously.
            return
        _queue_event(runtime, function, json.dumps(event_body).encode("utf-8"))

    def put_config(self: Any, function_name: str, config: dict[str, Any]) -> dict[str, Any]:
        function = self.get_function(function_name)
        event_config = EventInvokeConfig(function.function_arn, function.last_modified, config)
        function.event_invoke_config = [event_config]
        return event_config.response()

    def update_config(self: Any, function_name: str, config: dict[str, Any]) -> dict[str, Any]:
        function = self.get_function(function_name)
        current = lambda_async.event_invoke_config(function)
        return put_config(self, function_name, {**current, **config})

    _replace(s3_notifications, "_invoke_awslambda", invoke_from_s3)
    _replace(LambdaBackend, "put_function_event_invoke_config", put_config)
    _replace(LambdaBackend, "update_function_event_invoke_config", update_config)


def _patch_events_lambda_targets() -> None:
    """moto's EventBridge rules raise NotImplementedError for a Lambda function target (PutEvents
    answers HTTP 500) and deliver for disabled rules. Lambda targets are invoked asynchronously,
    like an InvocationType Event call (retries, destinations), with the event as AWS delivers it
    (see events_targets); a disabled rule delivers nothing. Other target types are moto's.
    """
    import copy

    from moto.events.models import Rule

    from . import events_targets

    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if self.state == "DISABLED" or not self.event_pattern.matches_event(original_event):
            return
        runtime = _lambda_runtime
        functions = [t for t in self.targets if events_targets.is_lambda_target(t)]
        if runtime is None or not functions:
            original(self, original_event, transform_input)
            return
        others = [t for t in self.targets if not events_targets.is_lambda_target(t)]
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, original_event, transform_input)

        def queue(function: Any, event: bytes) -> str:
            return _queue_event(runtime, function, event)

        for target in functions:
            events_targets.deliver_to_lambda(
                self, target, dict(original_event), transform_input, queue
            )

    _replace(Rule, "send_to_targets", send_to_targets)


# 4. SageMaker task integration -----------------------------------------------------------------


def _patch_sagemaker_task() -> None:
    """`arn:aws:states:::sagemaker:*.sync` fails in moto ("Unsupported .sync callback
    procedure") and a failing optimised SageMaker call becomes an uncatchable States.Runtime.
    SageMaker tasks get their own integration (sfn_tasks.StateTaskServiceSageMaker): .sync for
    CreateHyperParameterTuningJob/CreateTrainingJob, AWS error names for request-response calls.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        state_task_factory,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_factory,
    )

    from .sfn_tasks import StateTaskServiceSageMaker

    original = state_task_service_factory.state_task_service_for

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return StateTaskServiceSageMaker()
        return original(service_name)

    _replace(state_task_service_factory, "state_task_service_for", state_task_service_for)
    _replace(state_task_factory, "state_task_service_for", state_task_service_for)


# 5. SageMaker tuning jobs and algorithms -------------------------------------------------------


def _patch_sagemaker_tuning() -> None:
    """moto completes a tuning job at once with a fixed "FakeTrainingJobName" best job that no
    training job backs, and lacks StopHyperParameterTuningJob,
    ListTrainingJobsForHyperParameterTuningJob, CreateAlgorithm and DescribeAlgorithm. Tuning
    jobs now run real (emulated) training jobs with sampled hyperparameters, distinct objective
    values and model artifacts, and end as the control queue says (see sagemaker_sim).
    """
    from moto.core.responses import ActionResult, EmptyResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    from . import sagemaker_sim

    original_create = SageMakerModelBackend.create_hyper_parameter_tuning_job
    original_describe = SageMakerModelBackend.describe_hyper_parameter_tuning_job

    def create_hyper_parameter_tuning_job(self: Any, *args: Any, **kwargs: Any) -> str:
        request = _bound_arguments(original_create, self, *args, **kwargs)
        sagemaker_sim.validate_tuning_job_request(
            request.get("hyper_parameter_tuning_job_config"),
            request.get("training_job_definition"),
            request.get("training_job_definitions"),
        )
        arn = original_create(self, *args, **kwargs)
        job = self.hyper_parameter_tuning_jobs[request["hyper_parameter_tuning_job_name"]]
        sagemaker_sim.start_tuning_run(self, job)
        return arn

    def describe_hyper_parameter_tuning_job(
        self: Any, hyper_parameter_tuning_job_name: str
    ) -> dict[str, Any]:
        sagemaker_sim.describe_tuning_job(self, hyper_parameter_tuning_job_name)
        return original_describe(self, hyper_parameter_tuning_job_name)

    def stop_hyper_parameter_tuning_job(self: Any) -> Any:
        sagemaker_sim.stop_tuning_job(
            self.sagemaker_backend, self._get_param("HyperParameterTuningJobName")
        )
        return EmptyResult()

    def list_training_jobs_for_hyper_parameter_tuning_job(self: Any) -> Any:
        return ActionResult(
            sagemaker_sim.list_training_jobs_for_tuning_job(
                self.sagemaker_backend,
                self._get_param("HyperParameterTuningJobName"),
                status_equals=self._get_param("StatusEquals"),
                sort_by=self._get_param("SortBy"),
                sort_order=self._get_param("SortOrder"),
                max_results=self._get_param("MaxResults"),
                next_token=self._get_param("NextToken"),
            )
        )

    def create_algorithm(self: Any) -> Any:
        request = {
            key: self._get_param(key)
            for key in ("AlgorithmName", "TrainingSpecification", "InferenceSpecification")
        }
        arn = sagemaker_sim.create_algorithm(self.sagemaker_backend, request)
        return ActionResult({"AlgorithmArn": arn})

    def describe_algorithm(self: Any) -> Any:
        return ActionResult(
            sagemaker_sim.describe_algorithm(
                self.sagemaker_backend, self._get_param("AlgorithmName")
            )
        )

    _replace(
        SageMakerModelBackend,
        "create_hyper_parameter_tuning_job",
        create_hyper_parameter_tuning_job,
    )
    _replace(
        SageMakerModelBackend,
        "describe_hyper_parameter_tuning_job",
        describe_hyper_parameter_tuning_job,
    )
    _replace(SageMakerResponse, "stop_hyper_parameter_tuning_job", stop_hyper_parameter_tuning_job)
    _replace(
        SageMakerResponse,
        "list_training_jobs_for_hyper_parameter_tuning_job",
        list_training_jobs_for_hyper_parameter_tuning_job,
    )
    _replace(SageMakerResponse, "create_algorithm", create_algorithm)
    _replace(SageMakerResponse, "describe_algorithm", describe_algorithm)


# 6. SageMaker endpoints ------------------------------------------------------------------------


def _patch_sagemaker_endpoints() -> None:
    """moto has no UpdateEndpoint, every endpoint is InService at once, a CreateEndpoint of an
    existing name silently replaces it and DeleteEndpoint removes it at once. UpdateEndpoint
    switches the config (or rolls back, or fails, as the control queue says); CreateEndpoint can
    fail; with progression set, endpoints pass through Creating/Updating for a few Describe
    calls. An update that removes or retypes a variant still registered with Application Auto
    Scaling is refused, as SageMaker refuses it. CreateEndpoint of a name in use and
    UpdateEndpoint/DeleteEndpoint while a deployment is under way are refused with SageMaker's
    messages; a deleted endpoint is Deleting for the progression's Describe calls.
    """
    from moto.core.responses import ActionResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    from . import sagemaker_sim

    original_create = SageMakerModelBackend.create_endpoint
    original_describe = SageMakerModelBackend.describe_endpoint

    def create_endpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = _bound_arguments(original_create, self, *args, **kwargs)
        sagemaker_sim.refuse_existing_endpoint(self, request["endpoint_name"])
        endpoint = original_create(self, *args, **kwargs)
        sagemaker_sim.start_endpoint_creation(self, endpoint)
        return endpoint

    def describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
        sagemaker_sim.describe_endpoint(self, endpoint_name)
        return original_describe(self, endpoint_name)

    def update_endpoint(self: Any) -> Any:
        arn = sagemaker_sim.update_endpoint(
            self.sagemaker_backend,
            self._get_param("EndpointName"),
            self._get_param("EndpointConfigName"),
        )
        return ActionResult({"EndpointArn": arn})

    def delete_endpoint(self: Any, endpoint_name: str) -> None:
        sagemaker_sim.start_endpoint_deletion(self, endpoint_name)

    _replace(SageMakerModelBackend, "create_endpoint", create_endpoint)
    _replace(SageMakerModelBackend, "delete_endpoint", delete_endpoint)
    _replace(SageMakerModelBackend, "describe_endpoint", describe_endpoint)
    _replace(SageMakerResponse, "update_endpoint", update_endpoint)


def _patch_sagemaker_tags() -> None:
    """moto's AddTags appends a tag whose key the resource already has (SageMaker overwrites
    it), and AddTags/ListTags/DeleteTags on a missing endpoint fail with an internal error; an
    endpoint's lowercased ARN does not find an endpoint named with capitals. Endpoints follow
    SageMaker here (see sagemaker_sim.endpoint_from_arn); AddTags overwrites on every resource.
    Model package version ARNs (`model-package/<group>/<version>`) failed with HTTP 500, and
    group ARNs carry the name lowercased: both find their resource (see model_registry).
    ListTags of a resource created without Tags (a tuning job, a training job) failed with
    HTTP 500 (moto keeps None); SageMaker answers an empty list
    (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListTags.html).
    """
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import PAGINATION_MODEL, SageMakerModelBackend
    from moto.utilities.paginator import paginate

    from . import model_registry, sagemaker_sim

    original_resource_from_arn = SageMakerModelBackend._get_resource_from_arn

    def resource_from_arn(self: Any, arn: str) -> Any:
        if sagemaker_sim.is_endpoint_arn(arn):
            return sagemaker_sim.endpoint_from_arn(self, arn)
        if model_registry.is_model_package_arn(arn):
            return model_registry.find_package(self, arn)
        if model_registry.is_group_arn(arn):
            group = model_registry.find_group(self, arn)
            if group is None:
                raise ValidationError(message=f"Could not find model-package-group '{arn}'.")
            return group
        return original_resource_from_arn(self, arn)

    def add_tags(self: Any, arn: str, tags: list[dict[str, str]]) -> list[dict[str, str]]:
        resource = self._get_resource_from_arn(arn)
        resource.tags = sagemaker_sim.merge_tags(resource.tags or [], tags)
        return list(resource.tags)

    @paginate(pagination_model=PAGINATION_MODEL)
    def list_tags(self: Any, arn: str) -> list[dict[str, str]]:
        return list(self._get_resource_from_arn(arn).tags or [])

    _replace(SageMakerModelBackend, "_get_resource_from_arn", resource_from_arn)
    _replace(SageMakerModelBackend, "add_tags", add_tags)
    _replace(SageMakerModelBackend, "list_tags", list_tags)


def _patch_model_registry() -> None:
    """moto's model registry lacks DeleteModelPackageGroup and DeleteModelPackage, replaces a
    group created twice, omits DescribeModelPackageGroup's CreatedBy, leaves a version created
    without ModelApprovalStatus with none, reuses version numbers after a deletion, and its
    UpdateModelPackage erases every field it is not given. SageMaker's behaviour per the API
    reference is in model_registry, which also emits "SageMaker Model Package State Change" to
    EventBridge when a version is created and when its approval status changes.
    """
    from moto.core.responses import ActionResult, EmptyResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    from . import model_registry

    original_create_group = SageMakerModelBackend.create_model_package_group
    original_create_package = SageMakerModelBackend.create_model_package

    def create_model_package_group(self: Any, *args: Any, **kwargs: Any) -> str:
        request = _bound_arguments(original_create_group, self, *args, **kwargs)
        name = request["model_package_group_name"]
        model_registry.refuse_existing_group(self, name)
        original_create_group(self, *args, **kwargs)
        return model_registry.after_group_created(self, name)

    def create_model_package(self: Any, *args: Any, **kwargs: Any) -> str:
        request = _bound_arguments(original_create_package, self, *args, **kwargs)
        request.pop("self", None)
        group = request.get("model_package_group_name")
        if not group or request.get("model_package_name"):
            return str(original_create_package(self, **request))
        name, version = model_registry.reserve_version(self, group)
        request["model_package_group_name"] = name
        if request.get("model_approval_status") is None:
            request["model_approval_status"] = model_registry.DEFAULT_APPROVAL_STATUS
        before = dict(self.model_packages)
        before_names = dict(self.model_package_name_mapping)
        arn = original_create_package(self, **request)
        package = self.model_packages[arn]
        model_registry.renumber(self, package, version)
        displaced = before.get(arn)
        if displaced is not None and displaced is not package:
            self.model_packages[arn] = displaced
            self.model_package_name_mapping[arn] = before_names.get(arn, arn)
        model_registry.emit_state_change(self, package)
        return str(package.arn)

    def update_model_package(
        self: Any,
        model_package_arn: str,
        model_approval_status: str | None,
        approval_description: str | None,
        customer_metadata_properties: dict[str, str] | None,
        customer_metadata_properties_to_remove: list[str],
        additional_inference_specifications_to_add: list[Any] | None,
    ) -> str:
        package, changed = model_registry.update_package(
            self,
            model_package_arn,
            model_approval_status,
            approval_description,
            customer_metadata_properties,
            customer_metadata_properties_to_remove,
            additional_inference_specifications_to_add,
        )
        if changed:
            model_registry.emit_state_change(self, package)
        return str(package.arn)

    def describe_model_package_group(self: Any) -> Any:
        return ActionResult(
            model_registry.describe_group(
                self.sagemaker_backend, self._get_param("ModelPackageGroupName")
            )
        )

    def delete_model_package_group(self: Any) -> Any:
        model_registry.delete_group(
            self.sagemaker_backend, self._get_param("ModelPackageGroupName")
        )
        return EmptyResult()

    def delete_model_package(self: Any) -> Any:
        model_registry.delete_package(self.sagemaker_backend, self._get_param("ModelPackageName"))
        return EmptyResult()

    _replace(SageMakerModelBackend, "create_model_package_group", create_model_package_group)
    _replace(SageMakerModelBackend, "create_model_package", create_model_package)
    _replace(SageMakerModelBackend, "update_model_package", update_model_package)
    _replace(SageMakerResponse, "describe_model_package_group", describe_model_package_group)
    _replace(SageMakerResponse, "delete_model_package_group", delete_model_package_group)
    _replace(SageMakerResponse, "delete_model_package", delete_model_package)


# 7. Application Auto Scaling -------------------------------------------------------------------


def _patch_application_autoscaling() -> None:
    """moto answers a missing scalable target with ValidationException where AWS answers
    ObjectNotFoundException (DeregisterScalableTarget, PutScalingPolicy), accepts a scaling
    policy for a target never registered, and keeps a target's policies after deregistering it
    (AWS deletes them). All three follow AWS here.
    """
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
    from moto.core.exceptions import JsonRESTError

    def not_found(namespace: str, resource_id: str, dimension: str) -> JsonRESTError:
        return JsonRESTError(
            "ObjectNotFoundException",
            f"No scalable target registered for service namespace: {namespace}, "
            f"resource ID: {resource_id}, scalable dimension: {dimension}",
        )

    original_deregister = ApplicationAutoscalingBackend.deregister_scalable_target
    original_put_policy = ApplicationAutoscalingBackend.put_scaling_policy

    def deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        if not self._scalable_target_exists(r_id, dimension):
            raise not_found(namespace, r_id, dimension)
        original_deregister(self, namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                namespace,
                r_id,
                dimension,
            ):
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]

    def put_scaling_policy(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = _bound_arguments(original_put_policy, self, *args, **kwargs)
        if not self._scalable_target_exists(request["resource_id"], request["scalable_dimension"]):
            raise not_found(
                request["service_namespace"],
                request["resource_id"],
                request["scalable_dimension"],
            )
        return original_put_policy(self, *args, **kwargs)

    _replace(
        ApplicationAutoscalingBackend, "deregister_scalable_target", deregister_scalable_target
    )
    _replace(ApplicationAutoscalingBackend, "put_scaling_policy", put_scaling_policy)


# 8. The server itself ------------------------------------------------------------------------


def _patch_backend_lookup() -> None:
    """moto's dispatcher lists moto's package directory (a listdir and a stat per service, about
    150) on every request to tell whether the host names a service. The package does not change
    while the server runs: list it once."""
    from moto import backends

    modules = frozenset(backends.list_of_moto_modules())
    _replace(backends, "list_of_moto_modules", lambda: modules)


PATCHES: tuple[Callable[[], None], ...] = (
    _patch_start_execution_task,
    _patch_execution_names,
    _patch_execution_output,
    _patch_stop_execution,
    _patch_stop_before_first_state,
    _patch_task_tokens,
    _patch_task_credentials,
    _patch_aws_sdk_services,
    _patch_aws_sdk_errors_and_results,
    _patch_task_request_rules,
    _patch_lambda_invoke,
    _patch_lambda_async_sources,
    _patch_events_lambda_targets,
    _patch_sagemaker_task,
    _patch_sagemaker_tuning,
    _patch_sagemaker_endpoints,
    _patch_sagemaker_tags,
    _patch_model_registry,
    _patch_application_autoscaling,
    _patch_backend_lookup,
)


def is_applied() -> bool:
    return bool(_originals)


def apply() -> None:
    """Install every patch (idempotent). Fails with UnsupportedMotoVersion on another moto."""
    with _lock:
        if _originals:
            return
        check_moto_version()
        try:
            for patch in PATCHES:
                patch()
        except Exception:
            revert()
            raise


def revert() -> None:
    """Restore moto as it was before `apply()` (idempotent)."""
    with _lock:
        while _originals:
            owner, name, original = _originals.pop()
            if isinstance(owner, dict):
                if original is _MISSING:
                    owner.pop(name, None)
                else:
                    owner[name] = original
            elif original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def set_lambda_runtime(runtime: LambdaRuntime | None) -> None:
    """Where Lambda invocations run their handlers; None restores moto's behaviour. The
    runtime it replaces stops its workers."""
    global _lambda_runtime
    previous, _lambda_runtime = _lambda_runtime, runtime
    if previous is not None and previous is not runtime:
        previous.close()
