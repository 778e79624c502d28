"""`make demo`: deploy the module to a local AWS emulator and run the whole workflow twice.

Steps: start the emulator on loopback, `terraform apply` the `examples/emulator` root
configuration (which uses this module unchanged) with the seed's example parameter files, except
that the demo's copy of ml-parameters.json sets the promotion policy ifBetter; upload the example
data and a manifest, start the workflow with the AWS CLI, follow it live with `smtune watch`,
print what was deployed; then start a second run the same way, follow it, and print whether the
promotion policy deployed its model or kept the live one, and why. The emulator keeps running
for the next `make demo` (`--stop-at-end` stops it; `--stop` only stops one left running).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Callable

from smtune import progress

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "emulator"
DATA = REPO / "examples" / "seed"
# Where the demo keeps its Terraform state and the running emulator's address.
STATE_DIR = Path(os.environ.get("SMTUNE_DEMO_DIR", REPO / ".demo")).resolve()
BUCKET = "sagemaker-tuner-demo"
# Not under the trigger prefix (manifests/): this run is started with the AWS CLI instead.
MANIFEST_KEY = "inputs/manifest.json"
REGION = "us-east-1"
EMULATOR_RECORD = STATE_DIR / "emulator.json"
ML_PARAMETERS = REPO / "examples" / "params" / "ml-parameters.json"
# The demo's copy of ML_PARAMETERS: a run deploys only when its model beats the live one.
DEMO_ML_PARAMETERS = STATE_DIR / "ml-parameters.json"
PROMOTION = {"policy": "ifBetter"}
# What a run's deployment.outcome means, in the words of the demo's summary line.
OUTCOMES = {
    "InService": "deployed",
    "KeptLive": "kept the live model",
    "Superseded": "deployed, then superseded by a later run",
    "Rejected": "rejected in the model registry, kept the live model",
}


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def say(message: str) -> None:
    print(message, flush=True)


def step(title: str) -> None:
    say(f"\n==> {title}")


def run(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path = REPO,
    capture: bool = False,
    show: bool = True,
) -> str:
    if show:
        say("$ " + " ".join(shlex.quote(a) for a in argv))
    result = subprocess.run(
        list(argv),
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-5:] if capture else []
        raise DemoError(
            f"`{argv[0]} {argv[1] if len(argv) > 1 else ''}` exited with {result.returncode}"
            + ("\n" + "\n".join(detail) if detail else "")
        )
    return result.stdout or ""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/smtune-emulator/state", timeout=2):
            return True
    except OSError:
        return False


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(
                f"the emulator exited with {process.returncode}; see {STATE_DIR}/emulator.log"
            )
        if answers(url):
            return
        time.sleep(0.2)
    raise DemoError(f"the emulator did not answer on {url} within {timeout:.0f} s")


def running_emulator() -> dict[str, Any] | None:
    """The emulator a previous demo left running, if it still answers."""
    try:
        record = json.loads(EMULATOR_RECORD.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and answers(str(record.get("url"))) else None


def stop_emulator() -> bool:
    """Stop the emulator a previous demo left running; False when there was none."""
    try:
        record = json.loads(EMULATOR_RECORD.read_text())
        os.kill(int(record["pid"]), signal.SIGTERM)
        stopped = True
    except (OSError, ValueError, KeyError, TypeError):
        stopped = False
    EMULATOR_RECORD.unlink(missing_ok=True)
    (STATE_DIR / "terraform.tfstate").unlink(missing_ok=True)
    return stopped


def start_emulator(port: int) -> str:
    """Start the emulator as a background process that outlives this one."""
    if find_spec("moto") is None:
        raise DemoError(
            "the emulator needs moto, which `pip install .` leaves out: install the emulator "
            "extra, pip install 'sagemaker-tuner-deployer[emulator]' (make demo-setup does)"
        )
    STATE_DIR.mkdir(exist_ok=True)
    (STATE_DIR / "terraform.tfstate").unlink(missing_ok=True)  # a new emulator holds nothing
    url = f"http://127.0.0.1:{port}"
    with (STATE_DIR / "emulator.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "smtune.emulator", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    wait_until_up(url, process)
    EMULATOR_RECORD.write_text(json.dumps({"pid": process.pid, "url": url}))
    return url


def demo_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=url,
        TF_DATA_DIR=str(STATE_DIR / "terraform-data"),
        TF_IN_AUTOMATION="1",
    )
    env.pop("AWS_PROFILE", None)
    # The offline toolchain of `make setup`: its provider mirror needs no network.
    toolchain = REPO / ".toolchain"
    if (toolchain / "terraform.rc").is_file():
        env["TF_CLI_CONFIG_FILE"] = str(toolchain / "terraform.rc")
    env["PATH"] = os.pathsep.join([env.get("PATH", ""), str(toolchain / "bin")])
    return env


def run_condensed(
    argv: Sequence[str], env: dict[str, str], make: Callable[[float], progress.Condenser]
) -> None:
    """Run a long command in examples/emulator, printing condensed progress, not its output."""
    say("$ " + " ".join(shlex.quote(a) for a in argv))
    code, lines = progress.stream(argv, env, EXAMPLE, make, say)
    if code != 0:
        errors = [index for index, line in enumerate(lines) if line.startswith("Error")]
        detail = lines[errors[0] : errors[0] + 15] if errors else lines[-10:]
        raise DemoError(f"`{argv[0]} {argv[1]}` exited with {code}\n" + "\n".join(detail))


def write_ml_parameters(source: Path = ML_PARAMETERS, target: Path = DEMO_ML_PARAMETERS) -> Path:
    """The example ml-parameters.json with the promotion policy ifBetter, written to `target`."""
    document = json.loads(source.read_text())
    document["promotion"] = dict(PROMOTION)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n")
    return target


def terraform_apply(url: str, env: dict[str, str]) -> dict[str, str]:
    state = STATE_DIR / "terraform.tfstate"
    ml_parameters = write_ml_parameters()
    common = ["-no-color", "-input=false"]
    run_condensed(
        ["terraform", "init", *common],
        env,
        lambda started: progress.Ticker(
            started, "terraform init: installing the AWS provider from the local mirror"
        ),
    )
    run_condensed(
        [
            "terraform",
            "apply",
            *common,
            "-auto-approve",
            f"-state={state}",
            f"-var=endpoint_url={url}",
            f"-var=ml_parameters_file={ml_parameters}",
        ],
        env,
        progress.ApplyProgress,
    )
    outputs = json.loads(
        run(
            ["terraform", "output", "-json", f"-state={state}"],
            env,
            cwd=EXAMPLE,
            capture=True,
            show=False,
        )
    )
    return {name: value["value"] for name, value in outputs.items()}


def aws(url: str, env: dict[str, str], *args: str, capture: bool = False) -> str:
    return run(["aws", "--endpoint-url", url, "--region", REGION, *args], env, capture=capture)


def session() -> Any:
    import boto3

    return boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)


def execution_output(url: str, execution_arn: str) -> dict[str, Any]:
    """The finished run's output document."""
    execution = (
        session()
        .client("stepfunctions", endpoint_url=url)
        .describe_execution(executionArn=execution_arn)
    )
    return dict(json.loads(execution["output"]))


def promotion_summary(label: str, output: dict[str, Any]) -> str:
    """One line: what the promotion policy did with a run's model, and why."""
    deployment = output.get("deployment") or {}
    outcome = str(deployment.get("outcome"))
    reason = (deployment.get("promotion") or {}).get("reason") or "no reason given"
    return f"{label}: {OUTCOMES.get(outcome, outcome)} — {reason}"


def live_summary(output: dict[str, Any]) -> str:
    """One line: what the run's endpoint serves once the run has ended."""
    deployment = output.get("deployment") or {}
    return f"{deployment.get('endpointName')} now serves {deployment.get('endpointConfigName')}"


def describe_deployment(url: str, execution_arn: str) -> list[str]:
    """Read back, from the emulator, what the run created."""
    aws_ = session()
    sagemaker = aws_.client("sagemaker", endpoint_url=url)
    scaling = aws_.client("application-autoscaling", endpoint_url=url)
    run = execution_output(url, execution_arn)
    params = json.loads(ML_PARAMETERS.read_text())
    lines: list[str] = []
    for name in [run["tuning"]["tuningJobName"]]:
        job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        best = job.get("BestTrainingJob", {})
        metric = best.get("FinalHyperParameterTuningJobObjectiveMetric", {})
        counters = job.get("TrainingJobStatusCounters", {})
        lines.append(
            f"tuning job       {job['HyperParameterTuningJobName']} ({job['HyperParameterTuningJobStatus']}, "
            f"{counters.get('Completed', 0)} training jobs completed)"
        )
        lines.append(
            f"best training    {best.get('TrainingJobName')}  {metric.get('MetricName')} = {metric.get('Value')}"
        )
    endpoint = sagemaker.describe_endpoint(EndpointName=params["endpointName"])
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    for variant in config["ProductionVariants"]:
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        lines.append(
            f"model            {model['ModelName']}  ({model['PrimaryContainer'].get('ModelDataUrl')})"
        )
    lines.append(f"endpoint         {endpoint['EndpointName']} ({endpoint['EndpointStatus']})")
    lines.append(f"endpoint config  {config['EndpointConfigName']}")
    for target in scaling.describe_scalable_targets(ServiceNamespace="sagemaker")[
        "ScalableTargets"
    ]:
        lines.append(
            f"scaling target   {target['ResourceId']}  min {target['MinCapacity']} / max {target['MaxCapacity']}"
        )
    for policy in scaling.describe_scaling_policies(ServiceNamespace="sagemaker")[
        "ScalingPolicies"
    ]:
        config_ = policy.get("TargetTrackingScalingPolicyConfiguration", {})
        lines.append(
            f"scaling policy   {policy['PolicyName']}  ({policy['PolicyType']}, target {config_.get('TargetValue')})"
        )
    return lines


def smtune_command(url: str) -> list[str]:
    return [sys.executable, "-m", "smtune.cli", "--endpoint-url", url, "--region", REGION]


def start_execution(url: str, env: dict[str, str], state_machine_arn: str) -> str:
    """Start a run on the uploaded manifest with the AWS CLI; its execution ARN."""
    document = json.dumps({"manifestS3Uri": f"s3://{BUCKET}/{MANIFEST_KEY}"})
    started = aws(
        url,
        env,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        state_machine_arn,
        "--input",
        document,
        "--query",
        "executionArn",
        "--output",
        "text",
        capture=True,
    )
    execution_arn = started.strip()
    say(f"execution: {execution_arn}")
    return execution_arn


def watch(url: str, env: dict[str, str], execution_arn: str) -> None:
    """Follow a run live with `smtune watch` until it ends; a DemoError unless it succeeded."""
    followed = subprocess.run(
        [*smtune_command(url), "watch", execution_arn, "--interval", "0.5"], env=env, check=False
    )
    if followed.returncode != 0:
        raise DemoError(
            f"the workflow did not succeed (smtune watch exited with {followed.returncode})"
        )


def run_workflow(url: str, env: dict[str, str]) -> None:
    step(f"Deploy the module with Terraform (examples/emulator) to {url}")
    outputs = terraform_apply(url, env)
    say(f"state machine: {outputs['state_machine_arn']}")

    step("Upload the example data and a manifest")
    uploads = [
        (DATA / "train.csv", "titanic/training/train.csv"),
        (DATA / "validation.csv", "titanic/validation/validation.csv"),
        (REPO / "examples" / "params" / "manifest.json", MANIFEST_KEY),
    ]
    for source, key in uploads:
        aws(url, env, "s3", "cp", "--only-show-errors", str(source), f"s3://{BUCKET}/{key}")

    step("Start the workflow with the AWS CLI")
    execution_arn = start_execution(url, env, outputs["state_machine_arn"])

    step("Follow it live")
    watch(url, env, execution_arn)

    step("What was deployed")
    for line in describe_deployment(url, execution_arn):
        say(line)
    smtune = smtune_command(url)
    report = STATE_DIR / "report.html"
    made = subprocess.run(
        [*smtune, "report", "--execution", execution_arn, "--output", str(report)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode == 0:
        say(
            f"report           {report} (objective per training job, best so far, hyperparameters over their ranges)"
        )

    step(
        "Run it again the same way: under ifBetter, its model deploys only if it beats the live one"
    )
    second_arn = start_execution(url, env, outputs["state_machine_arn"])
    watch(url, env, second_arn)
    second = execution_output(url, second_arn)
    say("")
    say(promotion_summary("second run", second))
    say(live_summary(second))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smtune.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port of a new emulator (default: a free one)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start a new emulator even if one is running"
    )
    parser.add_argument(
        "--stop-at-end", action="store_true", help="stop the emulator when the demo ends"
    )
    parser.add_argument(
        "--stop", action="store_true", help="only stop an emulator left running, then exit"
    )
    args = parser.parse_args(argv)
    if args.stop:
        say("emulator stopped" if stop_emulator() else "no emulator was running")
        return 0
    started = time.monotonic()
    say(
        "This demo runs on a local AWS emulator on 127.0.0.1: no AWS account is used and nothing is billed."
    )
    say(
        "SageMaker is EMULATED: the tuning job, its training jobs, their objective values and the endpoint"
    )
    say(
        "are simulated; Step Functions runs the real state machines and Lambda runs the real handler code."
    )
    try:
        if args.fresh:
            stop_emulator()
        previous = running_emulator()
        if previous is None:
            say("\nStarting the emulator (moto and this project's emulation layer) ...")
            url = start_emulator(args.port or free_port())
            say(f"\nStarted the emulator on {url}.")
        else:
            url = str(previous["url"])
            say(
                f"\nReusing the emulator a previous demo left running on {url}: this run updates its endpoint."
            )
        try:
            run_workflow(url, demo_env(url))
        finally:
            if args.stop_at_end:
                stop_emulator()
                say(
                    "\nThe emulator is stopped: everything the demo deployed was held in its memory and is gone."
                )
            else:
                say(
                    f"\nThe emulator keeps running on {url}: `make demo` again reuses it (and updates the"
                )
                say(
                    "endpoint in place); `make demo-stop` stops it, and everything it held is gone with it."
                )
    except DemoError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo: interrupted", file=sys.stderr)
        return 130
    say(f"\nDemo finished in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
