"""Step Functions task integrations moto's ASL engine lacks or gets wrong.

- The optimised SageMaker integration with `.sync` for CreateHyperParameterTuningJob and
  CreateTrainingJob (moto: "Unsupported .sync callback procedure"), and AWS-style error names.
- The casing of the `states:startExecution` integration (moto hands botocore PascalCase keys).
- AWS-style error names for `aws-sdk:*` tasks (moto: `sagemaker.sagemakerException`).
- JSON-safe task results (moto leaves datetimes in them, and DescribeExecution then fails).
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any, Callable, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.settings import moto_server_port
from moto.stepfunctions.parser.api import (
    DescribeExecutionOutput,
    ExecutionStatus,
    HistoryEventType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.utilities.collections import select_from_typed_dict

from . import faults, iam

LOG = logging.getLogger(__name__)

_SYNC_JOBS: Final[dict[str, tuple[str, str, str, str]]] = {
    # api action: (name parameter, describe operation, status key, stop operation)
    "createhyperparametertuningjob": (
        "HyperParameterTuningJobName",
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobStatus",
        "stop_hyper_parameter_tuning_job",
    ),
    "createtrainingjob": (
        "TrainingJobName",
        "describe_training_job",
        "TrainingJobStatus",
        "stop_training_job",
    ),
}
_SYNC_RULES: Final[dict[str, str]] = {
    "createhyperparametertuningjob": "StepFunctionsGetEventsForSageMakerTuningJobsRule",
    "createtrainingjob": "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
}
_TERMINAL_JOB_STATUSES: Final[frozenset[str]] = frozenset({"Completed", "Failed", "Stopped"})


def json_safe(value: Any) -> Any:
    """`value` with datetimes as ISO-8601 strings and every container plain JSON."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def make_json_safe_in_place(value: Any) -> None:
    """Replace datetimes inside a task result without changing its identity."""
    if isinstance(value, dict):
        for key, item in list(value.items()):
            value[key] = json_safe(item)
    elif isinstance(value, list):
        value[:] = json_safe(value)


@functools.cache
def _modeled_errors(boto_service: str) -> frozenset[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model(boto_service)
    return frozenset(shape.name for shape in model.error_shapes)


def sdk_error_name(service_label: str, boto_service: str, code: str, fallback: str) -> str:
    """`<Service>.<Error>Exception` for a modelled error code, else `<Service>.<fallback>`."""
    if code in _modeled_errors(boto_service):
        name = code if code.endswith("Exception") else f"{code}Exception"
        return f"{service_label}.{name}"
    return f"{service_label}.{fallback}"


def sync_poller_client(service: str, region: str, role_arn: str | None = None) -> Any:
    """A client for Step Functions' own `.sync` polling (Describe, and Stop on abort).

    Made as moto's engine makes its clients (the emulator's port, no retries) but signed with
    a key under faults.INTERNAL_ACCESS_KEY: queued API errors are for the workflow's own calls,
    and a `.sync` task fails when its job or child execution fails, not when a status check
    does. The key acts as the state machine's role (iam.poller_access_key): Step Functions polls
    with it, and the role's policy must allow the polling
    (https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html).
    """
    key = iam.poller_access_key(role_arn) if role_arn else faults.INTERNAL_ACCESS_KEY
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=f"http://localhost:{moto_server_port()}",
        aws_access_key_id=key,
        aws_secret_access_key="sk",
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        ),
    )


def _request_id(error: ClientError) -> str:
    return str(error.response.get("ResponseMetadata", {}).get("RequestId", ""))


def _status_code(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))


def _task_failed(env: Any, task: Any, description: Any) -> FailureEventException:
    """States.TaskFailed with the ended job's or execution's description as cause, as a .sync
    task reports a job or child that did not succeed."""
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
            event_type=HistoryEventType.TaskFailed,
            # moto's EventDetails TypedDict marks every key required; one is given, as moto does.
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    resource=task._get_sfn_resource(),
                    resourceType=task._get_sfn_resource_type(),
                    error=StatesErrorNameType.StatesTaskFailed.to_name(),
                    cause=to_json_str(description),
                )
            ),
        )
    )


class _JobResolver:
    """Describes a SageMaker job until it ends; knows how to stop it when the task is aborted."""

    def __init__(
        self,
        env: Any,
        task: StateTaskServiceSageMaker,
        client: Any,
        job_name: str,
        describe: str,
        status_key: str,
        stop: str,
    ) -> None:
        self._env = env
        self._task = task
        self._client = client
        self._job_name = job_name
        self._describe = describe
        self._status_key = status_key
        self._stop = stop
        self._name_key = {
            "describe_hyper_parameter_tuning_job": "HyperParameterTuningJobName",
            "describe_training_job": "TrainingJobName",
        }[describe]
        self.finished = False

    def __call__(self) -> dict[str, Any] | None:
        description = getattr(self._client, self._describe)(**{self._name_key: self._job_name})
        description.pop("ResponseMetadata", None)
        status = description.get(self._status_key)
        if status not in _TERMINAL_JOB_STATUSES:
            return None
        self.finished = True
        output = json_safe(description)
        if status == "Completed":
            arn = description.get("HyperParameterTuningJobArn") or description.get("TrainingJobArn")
            if arn:
                # The .sync integration reads the job's tags when it ends; the policy Step
                # Functions generates for it allows sagemaker:ListTags
                # (https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html).
                self._client.list_tags(ResourceArn=arn)
            return output
        raise _task_failed(self._env, self._task, output)

    def stop_job(self) -> None:
        if self.finished:
            return
        try:
            getattr(self._client, self._stop)(**{self._name_key: self._job_name})
        except ClientError as error:
            LOG.info("Could not stop %s after the task ended: %s", self._job_name, error)


class StateTaskServiceSageMaker(StateTaskServiceCallback):
    """`arn:aws:states:::sagemaker:<action>[.sync]` as AWS runs it.

    Request-response calls are forwarded to SageMaker; `.sync` on CreateHyperParameterTuningJob
    and CreateTrainingJob describes the job until Completed (the task's result is the Describe
    output) or Failed/Stopped (the task fails with States.TaskFailed and the Describe output as
    cause). When the execution stops while the job runs, the job is stopped too.
    """

    def __init__(self) -> None:
        super().__init__(
            # moto declares ResourceCondition's members as plain strings.
            supported_integration_patterns={
                ResourceCondition.Sync,  # type: ignore[arg-type]
                # The engine needs a callback endpoint for every integration pattern it runs.
                ResourceCondition.WaitForTaskToken,  # type: ignore[arg-type]
            }
        )

    def _validate_service_integration_is_supported(self) -> None:
        condition = self.resource.condition
        if (
            condition == ResourceCondition.Sync
            and self.resource.api_action.lower() not in _SYNC_JOBS
        ):
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} is not supported: .sync is "
                "emulated for createHyperParameterTuningJob and createTrainingJob only."
            )
        if condition not in (None, ResourceCondition.Sync):
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} is not supported: SageMaker "
                "integrations support request-response and .sync only."
            )

    def _get_boto_service_name(self, boto_service_name: str | None = None) -> str:
        return "sagemaker"

    def _eval_service_task(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> None:
        client = boto_client_for(
            service="sagemaker",
            region=resource_runtime_part.region,
            state_credentials=state_credentials,
        )
        operation = client.meta.service_model.operation_model(
            self.resource.api_action[:1].upper() + self.resource.api_action[1:]
        )
        unknown = sorted(set(normalised_parameters) - set(operation.input_shape.members))
        if unknown:
            # AWS refuses such a definition; botocore would fail with a bare KeyError.
            raise ValueError(
                f"The field '{unknown[0]}' is not supported by Step Functions for "
                f"{self.resource.resource_arn}"
            )
        response = getattr(client, self._get_boto_service_action())(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(response)

    def _normalise_response(
        self,
        response: Any,
        boto_service_name: str | None = None,
        service_action_name: str | None = None,
    ) -> None:
        make_json_safe_in_place(response)

    def _build_sync_resolver(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict,
        state_credentials: Any,
    ) -> Callable[[], Any]:
        env.stack.pop()  # the Create response; the job is followed by name
        name_key, describe, status_key, stop = _SYNC_JOBS[self.resource.api_action.lower()]
        role_arn = getattr(state_credentials, "role_arn", None)
        client = sync_poller_client("sagemaker", resource_runtime_part.region, role_arn)
        if role_arn:
            # The .sync integration learns of the job's end through a managed EventBridge rule
            # that Step Functions creates with the state machine's role
            # (https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html).
            rule = _SYNC_RULES[self.resource.api_action.lower()]
            rule_arn = (
                f"arn:aws:events:{resource_runtime_part.region}:"
                f"{resource_runtime_part.account}:rule/{rule}"
            )
            iam.authorize(
                role_arn,
                [
                    iam.Check(action, rule_arn)
                    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule")
                ],
            )
        return _JobResolver(
            env, self, client, normalised_parameters[name_key], describe, status_key, stop
        )

    def _eval_sync(
        self,
        env: Any,
        sync_resolver: Callable[[], Any] | None,
        timeout_seconds: int | None,
        callback_endpoint: Any,
        heartbeat_endpoint: Any,
    ) -> Any:
        try:
            return super()._eval_sync(
                env=env,
                sync_resolver=sync_resolver,
                timeout_seconds=timeout_seconds,
                callback_endpoint=callback_endpoint,
                heartbeat_endpoint=heartbeat_endpoint,
            )
        finally:
            if not env.is_running() and isinstance(sync_resolver, _JobResolver):
                sync_resolver.stop_job()

    def _from_error(self, env: Any, ex: Exception) -> FailureEvent:
        if not isinstance(ex, ClientError):
            return super()._from_error(env=env, ex=ex)
        code = str(ex.response.get("Error", {}).get("Code", ""))
        # A code SageMaker's API model declares keeps its name (ResourceLimitExceeded becomes
        # SageMaker.ResourceLimitExceededException); any other (ThrottlingException,
        # ServiceUnavailable, ValidationException) is SageMaker.AmazonSageMakerException. AWS's
        # training job example retries exactly these two names:
        # https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html
        error = sdk_error_name("SageMaker", "sagemaker", code, "AmazonSageMakerException")
        cause = (
            f"{ex.response.get('Error', {}).get('Message', '')} (Service: AmazonSageMaker; "
            f"Status Code: {_status_code(ex)}; Error Code: {code}; "
            f"Request ID: {_request_id(ex)}; Proxy: null)"
        )
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.TaskFailed,
            # moto's EventDetails TypedDict marks every key required; one is given, as moto does.
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error,
                    cause=cause,
                    resource=self._get_sfn_resource(),
                    resourceType=self._get_sfn_resource_type(),
                )
            ),
        )


# states:startExecution -------------------------------------------------------------------------


class ChildExecutionResolver:
    """Follows the child execution of a `.sync`/`.sync:2` startExecution task, as moto's resolver
    does (the result is the child's description; a child that did not succeed fails the task with
    States.TaskFailed), and stops the child when the task is aborted.

    An aborted `.sync` task makes Step Functions try to cancel what it waits for: "if a Step
    Functions `states:startExecution.sync` task is aborted, it will call the Step Functions
    `StopExecution` API action", and a task is aborted when "the state machine execution is
    stopped" (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html,
    Run a Job (.sync)); the policy Step Functions generates for it grants
    `states:StopExecution` on the child state machine's executions
    (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html).
    """

    def __init__(self, env: Any, task: Any, client: Any, execution_arn: str, sync2: bool) -> None:
        self._env = env
        self._task = task
        self._client = client
        self._sync2 = sync2
        self.execution_arn = execution_arn
        self.finished = False

    def __call__(self) -> Any:
        described = self._client.describe_execution(executionArn=self.execution_arn)
        output = select_from_typed_dict(DescribeExecutionOutput, described)
        if output["status"] == ExecutionStatus.RUNNING:
            return None
        self.finished = True
        if self._sync2:  # Input and Output as JSON
            self._task._sync2_api_output_of(typ=DescribeExecutionOutput, value=output)
        self._task._normalise_response(response=output, service_action_name="describe_execution")
        if output["Status"] == ExecutionStatus.SUCCEEDED:
            return output
        raise _task_failed(self._env, self._task, output)

    def stop_child(self) -> None:
        """Stop the child execution unless the task already saw it end."""
        if self.finished:
            return
        try:
            self._client.stop_execution(executionArn=self.execution_arn)
        except ClientError as error:
            LOG.info("Could not stop %s after its parent stopped: %s", self.execution_arn, error)


def child_execution_resolver(
    env: Any, task: Any, region: str, execution_arn: str, sync2: bool, role_arn: str | None = None
) -> ChildExecutionResolver:
    client = sync_poller_client("stepfunctions", region, role_arn)
    if role_arn:
        # The .sync integration's managed rule for child executions
        # (https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html).
        account = execution_arn.split(":")[4]
        rule = f"arn:aws:events:{region}:{account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
        iam.authorize(
            role_arn,
            [
                iam.Check(action, rule)
                for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule")
            ],
        )
    return ChildExecutionResolver(env, task, client, execution_arn, sync2)


def sfn_request_keys(parameters: dict[str, Any]) -> None:
    """StartExecution's ASL keys (`StateMachineArn`) to botocore's (`stateMachineArn`)."""
    for key in list(parameters):
        botocore_key = key[:1].lower() + key[1:]
        if botocore_key != key:
            parameters[botocore_key] = parameters.pop(key)


def sfn_response_keys(response: Any) -> None:
    """botocore's response keys to the PascalCase AWS gives a state machine, in place.

    Only the top level and the `*Details` objects are renamed: `Input`/`Output` hold the child's
    own data (parsed JSON for `.sync:2`), which keeps its keys.
    """
    if not isinstance(response, dict):
        return
    for key in list(response):
        value = json_safe(response.pop(key))
        if key.endswith("Details") and isinstance(value, dict):
            value = {k[:1].upper() + k[1:]: v for k, v in value.items()}
        response[key[:1].upper() + key[1:]] = value
