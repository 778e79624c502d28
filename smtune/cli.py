"""`smtune`: the operator CLI of the SageMaker tuning workflow.

Every subcommand works against AWS and against the local emulator, with the AWS CLI's options
and environment variables. Problems end in one line on stderr, `smtune: error: ...`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from smtune import __version__, documents, graph, lifecycle, params
from smtune.aws import (
    Aws,
    AwsOptions,
    describe_aws_error,
    error_code,
    parse_execution_arn,
    parse_state_machine_arn,
)
from smtune.describe import history_document, history_text, status_document, status_text
from smtune.errors import EXIT_ERROR, EXIT_FAILED, EXIT_OK, CliError
from smtune.history import ExecutionLoader
from smtune.report import best_job_name, render_report, render_text
from smtune.resources import load_tuning_run
from smtune.runs import DEFAULT_MAX_RESULTS, list_runs, runs_table
from smtune.snapshot import SnapshotReader
from smtune.stop import RunStopper
from smtune.text import one_line
from smtune.watch import EXIT_BY_STATUS, watch

STATE_MACHINE_ENV = "SMTUNE_STATE_MACHINE_ARN"
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")

EXIT_CODES = """exit codes:
  0  success (watch: the execution SUCCEEDED; validate: every file is valid, warnings or not)
  1  validate: a file is invalid (--strict: or has a warning); start: the manifest is invalid;
     watch, rollback: the execution FAILED
  2  usage error, unreadable input, or an AWS error (one line on stderr says which;
     stop: one line per resource it could not stop, after stopping the others;
     teardown: one line per resource it could not delete, after deleting the others)
  3  watch, rollback: the execution TIMED_OUT
  4  watch, rollback: the execution was ABORTED
  5  watch: --timeout passed while the execution was still running"""


# ---------------------------------------------------------------------------------------------
# Helpers


def _aws(args: argparse.Namespace, region: str | None = None) -> Aws:
    options = AwsOptions(
        region=getattr(args, "region", None),
        profile=getattr(args, "profile", None),
        endpoint_url=getattr(args, "endpoint_url", None),
    )
    return Aws(options, default_region=region)


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=False, default=str))


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than 0")
    return number


def _positive(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than 0")
    return number


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_validate(args: argparse.Namespace) -> int:
    given = [
        (kind, path)
        for kind, path in (
            ("ml-parameters", args.ml_parameters),
            ("hyperparameters", args.hyperparameters),
            ("manifest", args.manifest),
        )
        if path
    ]
    if not given:
        raise CliError(
            "validate: give at least one of --ml-parameters, --hyperparameters, --manifest"
        )
    buckets = [_bucket_name(name) for name in args.bucket or ()]
    if buckets and not args.manifest:
        raise CliError("validate: --bucket checks the channels of --manifest; give --manifest too")
    loaded = [(kind, path, documents.read_json(path)) for kind, path in given]
    results = [(kind, path, _problems(kind, doc, buckets)) for kind, path, doc in loaded]
    warnings = {
        path: documents.warnings_in(kind, doc) + documents.placeholder_warnings(doc)
        for kind, path, doc in loaded
    }
    if args.strict:  # every warning is a problem
        results = [(kind, path, problems + warnings[path]) for kind, path, problems in results]
        warnings = {path: [] for path in warnings}
    valid = all(not problems for _, _, problems in results)
    if args.json:
        _print_json(
            {
                "valid": valid,
                "files": [
                    {
                        "file": path,
                        "kind": kind,
                        "valid": not problems,
                        "problems": [{"path": p, "message": m} for p, m in problems],
                        "warnings": [{"path": p, "message": m} for p, m in warnings[path]],
                    }
                    for kind, path, problems in results
                ],
            }
        )
        return EXIT_OK if valid else EXIT_FAILED
    for kind, path, problems in results:
        if not problems:
            print(f"{path}: valid {kind} file")
        for json_path, message in problems:
            print(f"{path}: {json_path}: {message}")
        for json_path, message in warnings[path]:
            print(f"{path}: warning: {json_path}: {message}")
    if valid:
        return EXIT_OK
    count = sum(len(problems) for _, _, problems in results)
    bad = sum(1 for _, _, problems in results if problems)
    print(
        f"{count} problem{'s' if count != 1 else ''} in {bad} of {len(results)} "
        f"file{'s' if len(results) != 1 else ''}"
    )
    return EXIT_FAILED


def _bucket_name(name: str) -> str:
    """A --bucket value: "my-bucket", also written "s3://my-bucket/"."""
    bucket = name.removeprefix("s3://").rstrip("/")
    if not bucket or "/" in bucket:
        raise CliError(f"--bucket: {name!r} is not an S3 bucket name")
    return bucket


def _problems(kind: str, document: Any, buckets: list[str]) -> list[tuple[str, str]]:
    """`documents.problems_in`, plus the rule that every channel reads one of `buckets`."""
    if kind != "manifest" or not buckets:
        return documents.problems_in(kind, document)
    from tuning_workflow.validation import validate_manifest  # the Lambda's own rule

    return [(p.path, p.message) for p in validate_manifest(document, data_buckets=buckets)]


def cmd_init_params(args: argparse.Namespace) -> int:
    region = getattr(args, "region", None) or os.environ.get("AWS_REGION")
    if not region:
        region = _aws(args).region
    if not region:
        raise CliError("init-params: the region is required: use --region")
    document = params.build_ml_parameters(
        account=args.account,
        region=region,
        bucket=args.bucket,
        training_subnets=params.split_list(args.training_subnets),
        training_security_groups=params.split_list(args.training_security_groups),
        hosting_subnets=params.split_list(args.hosting_subnets),
        hosting_security_groups=params.split_list(args.hosting_security_groups),
        tuning_job_name=args.tuning_job_name,
        endpoint_name=args.endpoint_name,
        model_name=args.model_name,
        algorithm_arn=args.algorithm_arn,
    )
    problems = documents.problems_in("ml-parameters", document)
    if problems:
        listed = "; ".join(f"{path}: {message}" for path, message in problems)
        raise CliError(f"the flags do not make a valid ml-parameters.json: {listed}")
    text = json.dumps(document, indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    documents.write_text(args.output, text, overwrite=args.force)
    print(f"wrote {args.output}")
    return EXIT_OK


def _default_execution_name() -> str:
    return f"smtune-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def cmd_start(args: argparse.Namespace) -> int:
    arn = args.state_machine_arn or os.environ.get(STATE_MACHINE_ENV)
    if not arn:
        raise CliError(
            f"start: no state machine: use --state-machine-arn or set {STATE_MACHINE_ENV}"
        )
    machine = parse_state_machine_arn(arn)
    source = args.manifest
    if source.startswith("s3://"):
        if not _S3_URI.match(source):
            raise CliError(f"--manifest: {source!r} is not an S3 URI of the form s3://bucket/key")
        execution_input: dict[str, Any] = {"manifestS3Uri": source}
    else:
        manifest = documents.read_json(source)
        problems = documents.problems_in("manifest", manifest)
        if problems:
            listed = "; ".join(f"{path}: {message}" for path, message in problems)
            raise CliError(f"{source}: not a valid manifest: {listed}", EXIT_FAILED)
        execution_input = {"manifest": manifest}
    name = args.name or _default_execution_name()
    if not 1 <= len(name) <= 80 or re.search(r"\s", name):
        raise CliError(f"--name: {name!r} must be 1 to 80 characters without spaces")
    sfn = _aws(args, machine.region).client("stepfunctions")
    try:
        started = sfn.start_execution(
            stateMachineArn=machine.arn, name=name, input=json.dumps(execution_input)
        )
    except ClientError as exc:
        if error_code(exc) == "ExecutionAlreadyExists":
            raise CliError(f"--name: an execution named {name!r} already exists") from exc
        if error_code(exc) == "StateMachineDoesNotExist":
            raise CliError(f"state machine not found: {machine.arn}") from exc
        raise
    print(started["executionArn"])
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    execution = parse_execution_arn(args.execution_arn)
    reader = SnapshotReader(_aws(args, execution.region))
    return watch(reader, execution.arn, sys.stdout, interval=args.interval, timeout=args.timeout)


def cmd_status(args: argparse.Namespace) -> int:
    execution = parse_execution_arn(args.execution_arn)
    snapshot = SnapshotReader(_aws(args, execution.region)).read(execution.arn)
    if args.json:
        _print_json(status_document(snapshot))
    else:
        sys.stdout.write(status_text(snapshot))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    execution = parse_execution_arn(args.execution_arn)
    sfn = _aws(args, execution.region).client("stepfunctions")
    view = ExecutionLoader(sfn).load(execution.arn)
    if args.json:
        _print_json(history_document(view))
    else:
        sys.stdout.write(history_text(view))
    return EXIT_OK


def cmd_stop(args: argparse.Namespace) -> int:
    execution = parse_execution_arn(args.execution_arn)
    aws = _aws(args, execution.region)
    stopper = RunStopper(
        aws.client("stepfunctions"), aws.client("sagemaker"), error=args.error, cause=args.cause
    )
    outcomes = stopper.stop(execution.arn)
    failed = [outcome for outcome in outcomes if outcome.outcome == "failed"]
    if args.json:
        _print_json([outcome.as_dict() for outcome in outcomes])
    else:
        for outcome in outcomes:
            if outcome.outcome != "failed":
                print(outcome.text())
    for outcome in failed:
        print(f"smtune: error: {outcome.text()}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    if args.format == "html" and args.output is None:
        args.output = "report.html"
    if args.format == "html" and Path(args.output).suffix.lower() == ".png":
        raise CliError("--output: the report is an HTML page; name the file *.html")
    execution = None
    if args.execution:
        parsed = parse_execution_arn(args.execution, "--execution")
        aws = _aws(args, parsed.region)
        view = ExecutionLoader(aws.client("stepfunctions")).load(parsed.arn)
        names = view.all_names("tuning_jobs")
        if not names:
            raise CliError(f"execution {parsed.arn} has not started a tuning job (yet)")
        tuning_job, execution = names[-1], view.description
    else:
        aws, tuning_job = _aws(args), args.tuning_job
    run = load_tuning_run(aws.client("sagemaker"), tuning_job)
    if args.format == "text":
        if args.output is None or args.output == "-":
            sys.stdout.write(render_text(run, execution))
            return EXIT_OK
        documents.write_text(args.output, render_text(run, execution))
    else:
        documents.write_text(args.output, render_report(run, execution))
    best = best_job_name(run)
    print(
        f"wrote {args.output}: tuning job {tuning_job}, {len(run.jobs)} training jobs"
        + (f", best {best}" if best else "")
    )
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    if args.image and Path(args.image).suffix.lower() != ".svg":
        raise CliError(f"--image: {args.image!r}: the image is written as SVG; name it *.svg")
    if args.state_machine_arn:
        machine = parse_state_machine_arn(args.state_machine_arn)
        sfn = _aws(args, machine.region).client("stepfunctions")
        try:
            described = sfn.describe_state_machine(stateMachineArn=machine.arn)
        except ClientError as exc:
            if error_code(exc) == "StateMachineDoesNotExist":
                raise CliError(f"state machine not found: {machine.arn}") from exc
            raise
        definition = graph.parse_definition(described["definition"], machine.arn)
        title = machine.state_machine
    elif args.definition:
        definition = graph.parse_definition(documents.read_text(args.definition), args.definition)
        title = Path(args.definition).name.split(".")[0]
    else:
        template = graph.state_machine_template(args.template)
        text = graph.fill_template(documents.read_text(str(template)))
        definition = graph.parse_definition(text, str(template))
        title = f"{args.template} state machine"
    flow = graph.build_flow(definition)
    mermaid = graph.to_mermaid(flow)
    if args.output:
        documents.write_text(args.output, mermaid)
        print(f"wrote {args.output}", file=sys.stderr)
    if args.image:
        documents.write_text(args.image, graph.to_svg(flow, title))
        print(f"wrote {args.image}", file=sys.stderr)
    if not args.output and not args.image:
        sys.stdout.write(mermaid)
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    machine = parse_state_machine_arn(args.state_machine_arn)
    sfn = _aws(args, machine.region).client("stepfunctions")
    runs = list_runs(sfn, machine.arn, args.max_results)
    if args.json:
        _print_json([run.as_dict() for run in runs])
    elif not runs:
        print(f"no runs of {machine.state_machine}")
    else:
        sys.stdout.write(runs_table(runs))
    return EXIT_OK


def _set_approval(args: argparse.Namespace, status: str) -> int:
    region = lifecycle.model_package_region(args.model_package_arn)
    sagemaker = _aws(args, region).client("sagemaker")
    result = lifecycle.set_approval(
        sagemaker, args.model_package_arn.strip(), status, args.description, args.force
    )
    if args.json:
        _print_json(result)
    else:
        sys.stdout.write(lifecycle.approval_text(result))
    return EXIT_OK


def cmd_approve(args: argparse.Namespace) -> int:
    return _set_approval(args, "Approved")


def cmd_reject(args: argparse.Namespace) -> int:
    return _set_approval(args, "Rejected")


def cmd_rollback(args: argparse.Namespace) -> int:
    machine = None
    if args.state_machine_arn:
        machine = parse_state_machine_arn(args.state_machine_arn)
    aws = _aws(args, machine.region if machine else None)
    sagemaker, sfn = aws.client("sagemaker"), aws.client("stepfunctions")
    plan = lifecycle.plan_rollback(
        sagemaker, sfn, args.endpoint_name, args.to, machine.arn if machine else None
    )
    execution_arn = lifecycle.start_rollback(sfn, plan)
    if args.no_wait:
        if args.json:
            _print_json({**plan.as_dict(), "executionArn": execution_arn, "status": "RUNNING"})
        else:
            print(
                f"started rollback of endpoint {plan.endpoint_name} from {plan.live_config} to "
                f"{plan.target_config}: {execution_arn}"
            )
        return EXIT_OK
    if not args.json:
        print(
            f"rolling back endpoint {plan.endpoint_name} from {plan.live_config} to "
            f"{plan.target_config}: {execution_arn} (Ctrl-C stops waiting, not the rollback)",
            flush=True,
        )
    execution = lifecycle.wait_for_execution(sfn, execution_arn)
    live = lifecycle.live_endpoint(sagemaker, plan.endpoint_name)
    status = str(execution.get("status"))
    if args.json:
        _print_json(
            {
                **plan.as_dict(),
                "executionArn": execution_arn,
                "status": status,
                "error": execution.get("error"),
                "cause": execution.get("cause"),
                "endpoint": live,
            }
        )
    else:
        sys.stdout.write(lifecycle.rollback_text(plan, execution, live))
    if status != "SUCCEEDED":
        reason = str(execution.get("error") or status)
        if execution.get("cause"):
            reason += f": {one_line(str(execution['cause']), 500)}"
        raise CliError(
            f"rollback execution {execution_arn} {status}: {reason}",
            EXIT_BY_STATUS.get(status, EXIT_FAILED),
        )
    return EXIT_OK


def cmd_teardown(args: argparse.Namespace) -> int:
    prefix = args.name_prefix.strip()
    if not prefix:
        raise CliError("--name-prefix: give the deployment's name_prefix")
    aws = _aws(args)
    sagemaker, autoscaling = aws.client("sagemaker"), aws.client("application-autoscaling")
    plan = lifecycle.plan_teardown(sagemaker, autoscaling, prefix)
    dry_run = not args.yes
    if dry_run or plan.empty():
        actions = lifecycle.planned_actions(plan)
    else:
        actions = lifecycle.run_teardown(sagemaker, autoscaling, plan)
    failed = [action for action in actions if action.outcome == "failed"]
    if args.json:
        _print_json(
            {
                "namePrefix": prefix,
                "dryRun": dry_run,
                "actions": [action.as_dict() for action in actions],
            }
        )
    elif plan.empty():
        print(
            f"nothing to delete: no endpoint, endpoint config or model is tagged "
            f"{lifecycle.OWNER_TAG_KEY}={prefix}"
        )
    else:
        if dry_run:
            print(
                f"deployment {prefix}: would delete {lifecycle.plan_summary(plan)} "
                "(dry run: pass --yes to delete them)"
            )
        for action in actions:
            if action.outcome != "failed":
                print(action.text())
    for action in failed:
        print(f"smtune: error: {action.text()}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


# ---------------------------------------------------------------------------------------------
# Parser


def _add_aws_options(parser: argparse.ArgumentParser, in_subcommand: bool) -> None:
    # Accepted before and after the subcommand, as the AWS CLI does; SUPPRESS keeps a value
    # given before the subcommand from being reset by the subcommand's default.
    default = argparse.SUPPRESS if in_subcommand else None
    group = parser.add_argument_group("AWS options (as in the AWS CLI)")
    group.add_argument(
        "--region",
        default=default,
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, "
        "the profile, or the region of the ARN given)",
    )
    group.add_argument("--profile", default=default, help="named profile (default: AWS_PROFILE)")
    group.add_argument(
        "--endpoint-url",
        default=default,
        help="send every request to this URL, e.g. the emulator's http://127.0.0.1:PORT "
        "(default: AWS_ENDPOINT_URL, else AWS)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smtune",
        description="Drive the SageMaker tuning workflow: check inputs, start, follow and stop "
        "runs, list past runs, picture a tuning job, draw the state machines; approve or reject "
        "model versions, roll an endpoint back, tear a deployment's models down.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"smtune {__version__}")
    _add_aws_options(parser, in_subcommand=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], text: str) -> Any:
        sub = commands.add_parser(
            name,
            help=text,
            description=text,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    sub = command(
        "validate",
        cmd_validate,
        "Check input files against the workflow's JSON Schemas; print every problem.",
    )
    sub.add_argument("--ml-parameters", metavar="FILE", help="an ml-parameters.json")
    sub.add_argument("--hyperparameters", metavar="FILE", help="a hyperparameters.json")
    sub.add_argument("--manifest", metavar="FILE", help="a manifest.json")
    sub.add_argument(
        "--bucket",
        action="append",
        metavar="NAME",
        help="a bucket the manifest's channels may read from, as the deployment's s3_bucket and "
        "additional_s3_bucket_names (repeatable; without it any bucket is accepted)",
    )
    sub.add_argument(
        "--strict",
        action="store_true",
        help="count every warning (an unfilled template placeholder such as <region>, an "
        "ignored setting) as a problem: exit 1",
    )
    sub.add_argument("--json", action="store_true", help="print the result as JSON")

    sub = command(
        "init-params",
        cmd_init_params,
        "Write an ml-parameters.json (the seed template's settings) from flags.",
    )
    sub.add_argument("--account", required=True, help="AWS account id (12 digits)")
    sub.add_argument(
        "--bucket", required=True, help="S3 bucket for checkpoints and model artifacts"
    )
    sub.add_argument("--training-subnets", metavar="A,B", help="subnets for training jobs")
    sub.add_argument(
        "--training-security-groups", metavar="SG", help="security groups for training"
    )
    sub.add_argument("--hosting-subnets", metavar="A,B", help="subnets for the endpoint's model")
    sub.add_argument("--hosting-security-groups", metavar="SG", help="security groups for hosting")
    sub.add_argument(
        "--tuning-job-name",
        default=params.DEFAULT_TUNING_JOB_NAME,
        help=f"base name of the tuning jobs, at most {params.TUNING_JOB_NAME_MAX} characters "
        "(default: %(default)s)",
    )
    sub.add_argument(
        "--endpoint-name",
        default=params.DEFAULT_ENDPOINT_NAME,
        help="endpoint name (default: %(default)s)",
    )
    sub.add_argument(
        "--model-name",
        default=params.DEFAULT_MODEL_NAME,
        help="base name of the models (default: %(default)s)",
    )
    sub.add_argument(
        "--algorithm-arn",
        help="SageMaker algorithm resource ARN (default: "
        f"arn:aws:sagemaker:REGION:ACCOUNT:algorithm/{params.DEFAULT_ALGORITHM})",
    )
    sub.add_argument(
        "--output",
        default="ml-parameters.json",
        metavar="FILE",
        help="where to write it, '-' for stdout (default: %(default)s)",
    )
    sub.add_argument("--force", action="store_true", help="overwrite an existing file")

    sub = command("start", cmd_start, "Start a run from a manifest; print the execution ARN.")
    sub.add_argument(
        "--state-machine-arn",
        metavar="ARN",
        help=f"the workflow to start (default: ${STATE_MACHINE_ENV})",
    )
    sub.add_argument(
        "--manifest",
        required=True,
        metavar="FILE_OR_S3_URI",
        help="a local manifest.json (validated, sent inline) or s3://bucket/key.json",
    )
    sub.add_argument("--name", help="execution name (default: smtune-<UTC time>-<random>)")

    sub = command(
        "watch", cmd_watch, "Follow an execution live, one line per change, until it ends."
    )
    sub.add_argument("execution_arn", metavar="EXECUTION_ARN")
    sub.add_argument(
        "--interval",
        type=_positive,
        default=5.0,
        metavar="SECONDS",
        help="seconds between polls (default: %(default)s)",
    )
    sub.add_argument(
        "--timeout",
        type=_positive,
        metavar="SECONDS",
        help="stop watching after this long (exit code 5); default: no limit",
    )

    sub = command("status", cmd_status, "Show where an execution is and what it made.")
    sub.add_argument("execution_arn", metavar="EXECUTION_ARN")
    sub.add_argument("--json", action="store_true", help="print the status as JSON")

    sub = command(
        "history",
        cmd_history,
        "List the states an execution went through, with its child executions.",
    )
    sub.add_argument("execution_arn", metavar="EXECUTION_ARN")
    sub.add_argument("--json", action="store_true", help="print the history as JSON")

    sub = command(
        "stop",
        cmd_stop,
        "Stop a run: its running child executions and their tuning jobs first, then the "
        "execution itself; print one line per resource.",
    )
    sub.add_argument("execution_arn", metavar="EXECUTION_ARN")
    sub.add_argument(
        "--error", metavar="CODE", help="error code recorded on each stopped execution"
    )
    sub.add_argument(
        "--cause", metavar="TEXT", help="explanation recorded on each stopped execution"
    )
    sub.add_argument("--json", action="store_true", help="print what was done as a JSON list")

    sub = command(
        "report",
        cmd_report,
        "Picture a tuning job and its training jobs: an HTML page, or the same figures as text.",
    )
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument("--tuning-job", metavar="NAME", help="the tuning job")
    source.add_argument(
        "--execution", metavar="EXECUTION_ARN", help="the run whose tuning job to picture"
    )
    sub.add_argument(
        "--format",
        choices=("html", "text"),
        default="html",
        help="html: a self-contained page with charts; text: the same figures for a terminal "
        "(default: %(default)s)",
    )
    sub.add_argument(
        "--output",
        metavar="FILE",
        help="the file to write (default: report.html; with --format text, standard output)",
    )

    sub = command(
        "graph",
        cmd_graph,
        "Draw a state machine: Mermaid text (stdout or --output) and an SVG image.",
    )
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument("--state-machine-arn", metavar="ARN", help="a deployed state machine")
    source.add_argument(
        "--definition", metavar="FILE", help="an ASL JSON file (or describe-state-machine output)"
    )
    source.add_argument(
        "--template",
        choices=graph.TEMPLATES,
        help="one of this repository's statemachine/*.asl.json templates",
    )
    sub.add_argument("--output", metavar="FILE.mmd", help="write the Mermaid text here")
    sub.add_argument("--image", metavar="FILE.svg", help="write an SVG image here")

    sub = command(
        "runs",
        cmd_runs,
        "List the past runs of the workflow (or of its deployer), newest first: start, "
        "duration, status, tuning job, best objective, outcome (deployed, kept live, rejected, "
        "superseded, failed with the error name, running, aborted) and endpoint config.",
    )
    sub.add_argument(
        "--state-machine-arn",
        required=True,
        metavar="ARN",
        help="the workflow's state machine (the deployment's parent state machine), or its "
        "deployer state machine",
    )
    sub.add_argument(
        "--max-results",
        type=_positive_int,
        default=DEFAULT_MAX_RESULTS,
        metavar="N",
        help="show at most the N newest runs (default: %(default)s)",
    )
    sub.add_argument("--json", action="store_true", help="print the runs as a JSON list")

    for name, handler, verb in (
        ("approve", cmd_approve, "Approve"),
        ("reject", cmd_reject, "Reject"),
    ):
        sub = command(
            name,
            handler,
            f"{verb} a model package version waiting for manual approval "
            "(PendingManualApproval); a deployer waiting for the decision goes on. Prints the "
            "version's status after.",
        )
        sub.add_argument(
            "model_package_arn",
            metavar="MODEL_PACKAGE_ARN",
            help="the version: arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION",
        )
        sub.add_argument(
            "--description",
            metavar="TEXT",
            help="why, recorded as the version's approval description",
        )
        sub.add_argument(
            "--force",
            action="store_true",
            help="change the status even when the version is not PendingManualApproval "
            "(e.g. reject a version approved before)",
        )
        sub.add_argument("--json", action="store_true", help="print the result as JSON")

    sub = command(
        "rollback",
        cmd_rollback,
        "Put an endpoint back on an earlier endpoint config of its deployment: starts the "
        'deployer with {"endpointConfigName": CONFIG}, waits for it, and prints what is live.',
    )
    sub.add_argument("endpoint_name", metavar="ENDPOINT_NAME", help="the endpoint to roll back")
    sub.add_argument(
        "--to",
        metavar="ENDPOINT_CONFIG",
        help="the endpoint config to go back to, one of the deployment's (default: the config "
        f"the live one replaced, its {lifecycle.REPLACES_TAG_KEY} tag)",
    )
    sub.add_argument(
        "--state-machine-arn",
        metavar="DEPLOYER_ARN",
        help="the deployer state machine to run (default: the one named <deployment>-deployer, "
        f"where <deployment> is the endpoint's {lifecycle.OWNER_TAG_KEY} tag)",
    )
    sub.add_argument(
        "--no-wait",
        action="store_true",
        help="start the deployer and print its execution ARN without waiting for it "
        "(follow it with `smtune watch`)",
    )
    sub.add_argument("--json", action="store_true", help="print the result as JSON")

    sub = command(
        "teardown",
        cmd_teardown,
        "Delete what a deployment's runs created: its endpoints (their auto-scaling targets and "
        "policies first), endpoint configs and models, found by their "
        f"{lifecycle.OWNER_TAG_KEY} tag; anything tagged for another deployment or untagged is "
        "never touched. Without --yes it only lists what it would delete.",
    )
    sub.add_argument(
        "--name-prefix",
        required=True,
        metavar="PREFIX",
        help="the deployment's name_prefix (the value of its resources' owner tag)",
    )
    sub.add_argument(
        "--yes",
        action="store_true",
        help="delete for real (default: a dry run that lists what would be deleted)",
    )
    sub.add_argument(
        "--json", action="store_true", help="print what was (or would be) done as JSON"
    )

    for sub in commands.choices.values():
        _add_aws_options(sub, in_subcommand=True)
    return parser


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"smtune: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return args.handler(args)
    except CliError as exc:
        return _fail(exc.message, exc.exit_code)
    except (BotoCoreError, ClientError) as exc:
        return _fail(describe_aws_error(exc) or str(exc))
    except KeyboardInterrupt:
        print("smtune: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `smtune history ... | head`: the reader left, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get("SMTUNE_DEBUG"):
            traceback.print_exc()
        return _fail(f"unexpected {type(exc).__name__}: {exc} (set SMTUNE_DEBUG=1 for details)")


if __name__ == "__main__":
    sys.exit(main())
