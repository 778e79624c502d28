"""`make demo`: deploy the module to a local AWS emulator and run the whole workflow once.

Steps: start the emulator on loopback, `terraform apply` the `examples/emulator` root
configuration (which uses this module unchanged) with the seed's example parameter files, upload
the example data and a manifest, start the workflow with the AWS CLI, follow it live with
`smtune watch`, print what was deployed, then stop the emulator (everything it held is gone with
it). `--keep` leaves the emulator running instead and prints how to stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "emulator"
DATA = REPO / "examples" / "seed"
STATE_DIR = REPO / ".demo"
BUCKET = "sagemaker-tuner-demo"
# Not under the trigger prefix (manifests/): this run is started with the AWS CLI instead.
MANIFEST_KEY = "inputs/manifest.json"
REGION = "us-east-1"


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


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DemoError(
                f"the emulator exited with {process.returncode}; see {STATE_DIR}/emulator.log"
            )
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise DemoError(f"the emulator did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def emulator(port: int, keep: bool) -> Iterator[str]:
    STATE_DIR.mkdir(exist_ok=True)
    log = (STATE_DIR / "emulator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "smtune.emulator", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    (STATE_DIR / "emulator.pid").write_text(str(process.pid))
    try:
        wait_until_up(url, process)
        yield url
    finally:
        if keep and process.poll() is None:
            say(f"\nThe emulator keeps running on {url} (pid {process.pid}).")
            say("Stop it with: make demo-stop")
        else:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            (STATE_DIR / "emulator.pid").unlink(missing_ok=True)
            say(
                "\nThe emulator is stopped: everything the demo deployed was held in its memory and is gone."
            )


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
    return env


def terraform_apply(url: str, env: dict[str, str]) -> dict[str, str]:
    state = STATE_DIR / "terraform.tfstate"
    state.unlink(missing_ok=True)
    common = ["-no-color", "-input=false"]
    run(["terraform", "init", *common], env, cwd=EXAMPLE, capture=True)
    run(
        [
            "terraform",
            "apply",
            *common,
            "-auto-approve",
            f"-state={state}",
            f"-var=endpoint_url={url}",
        ],
        env,
        cwd=EXAMPLE,
        capture=True,
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


def describe_deployment(url: str) -> list[str]:
    """Read back, from the emulator, what the run created."""
    import boto3

    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    sagemaker = session.client("sagemaker", endpoint_url=url)
    scaling = session.client("application-autoscaling", endpoint_url=url)
    params = json.loads((REPO / "examples" / "params" / "ml-parameters.json").read_text())
    lines: list[str] = []
    for summary in sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]:
        job = sagemaker.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=summary["HyperParameterTuningJobName"]
        )
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the emulator running at the end")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: a free one)")
    args = parser.parse_args(argv)
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
        with emulator(args.port or free_port(), keep=args.keep) as url:
            env = demo_env(url)
            step(f"Deploy the module with Terraform (examples/emulator) to {url}")
            outputs = terraform_apply(url, env)
            say(f"state machine: {outputs['state_machine_arn']}")

            step("Upload the example data and a manifest")
            aws(
                url,
                env,
                "s3",
                "cp",
                str(DATA / "train.csv"),
                f"s3://{BUCKET}/titanic/training/train.csv",
            )
            aws(
                url,
                env,
                "s3",
                "cp",
                str(DATA / "validation.csv"),
                f"s3://{BUCKET}/titanic/validation/validation.csv",
            )
            aws(
                url,
                env,
                "s3",
                "cp",
                str(REPO / "examples" / "params" / "manifest.json"),
                f"s3://{BUCKET}/{MANIFEST_KEY}",
            )

            step("Start the workflow with the AWS CLI")
            started_run = json.loads(
                aws(
                    url,
                    env,
                    "stepfunctions",
                    "start-execution",
                    "--state-machine-arn",
                    outputs["state_machine_arn"],
                    "--input",
                    json.dumps({"manifestS3Uri": f"s3://{BUCKET}/{MANIFEST_KEY}"}),
                    capture=True,
                )
            )
            execution_arn = started_run["executionArn"]
            say(f"execution: {execution_arn}")

            step("Follow it live")
            watch = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "smtune.cli",
                    "--endpoint-url",
                    url,
                    "--region",
                    REGION,
                    "watch",
                    execution_arn,
                    "--interval",
                    "1",
                ],
                env=env,
                check=False,
            )
            if watch.returncode != 0:
                raise DemoError(
                    f"the workflow did not succeed (watch exited with {watch.returncode})"
                )

            step("What was deployed")
            for line in describe_deployment(url):
                say(line)
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
