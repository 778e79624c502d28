"""What a no-change `terraform plan` of the module costs, against a 6-resource root.

Starts the emulator in this process, applies (a) the module with the example parameter files
and (b) a baseline root of six resources (an IAM role and its inline policy, an SNS topic, an SQS
queue, a log group and one SSM parameter) into it, then runs N pairs of no-change plans, the
two roots alternating which goes first. For each root it prints the median wall time and the
API requests the emulator answered per plan (by service), and the ratio of the medians
(module / baseline). The target is a ratio of at most 2.0. With several layouts, the module is
applied and measured in each in turn (parameter_store_layout), against the same baseline.

Usage: python benchmarks/plan_cost.py [--pairs N] [--layout document|leaves|all]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.terraform import (  # noqa: E402
    BUNDLED_PACKAGE,
    PARAMS_DIR,
    REPO_ROOT,
    TEST_RUNTIME,
    clients_for,
    emulator_provider,
    terraform_binary,
    terraform_environment,
    write_root,
)

TARGET_RATIO = 2.0
LAYOUTS = ("document", "leaves")
NAME = "plancost"
BUCKET = "plancost-data"
# The example parameters' training output and checkpoints are on this bucket.
EXAMPLE_BUCKET = "sagemaker-tuner-demo"

# The service of a SigV4-signed request, from its credential scope.
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


class RequestCounter:
    """Counts the emulator's requests by service (and operation, when the header names it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any]) -> None:
        scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "unsigned"
        with self._lock:
            self.counts[service] += 1

    def take(self) -> Counter[str]:
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return counts


def baseline_root(directory: Path) -> Path:
    """Six resources of the services the module uses, with the module's provider settings."""
    directory.mkdir(parents=True, exist_ok=True)
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "${aws_sns_topic.this.arn}"}
        ],
    }
    config = {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 3.39"}}
        },
        "variable": {"endpoint_url": {"type": "string"}},
        "provider": {"aws": emulator_provider()},
        "resource": {
            "aws_iam_role": {
                "this": {"name": f"{NAME}-base", "assume_role_policy": json.dumps(assume)}
            },
            "aws_iam_role_policy": {
                "this": {
                    "name": f"{NAME}-base",
                    "role": "${aws_iam_role.this.id}",
                    "policy": json.dumps(policy),
                }
            },
            "aws_sns_topic": {"this": {"name": f"{NAME}-base"}},
            "aws_sqs_queue": {"this": {"name": f"{NAME}-base"}},
            "aws_cloudwatch_log_group": {
                "this": {"name": f"/{NAME}/base", "retention_in_days": 14}
            },
            "aws_ssm_parameter": {
                "this": {"name": f"/{NAME}-base/value", "type": "String", "value": "v"}
            },
        },
    }
    (directory / "main.tf.json").write_text(json.dumps(config, indent=2))
    return directory


def module_root(directory: Path, layout: str, package: Path) -> Path:
    return write_root(
        directory,
        REPO_ROOT,
        {
            "name_prefix": NAME,
            "s3_bucket": BUCKET,
            "additional_s3_bucket_names": [EXAMPLE_BUCKET],
            "ml_parameters_file": str(PARAMS_DIR / "ml-parameters.json"),
            "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(package),
            "parameter_store_layout": layout,
        },
    )


class Root:
    """A Terraform working directory applied into the emulator."""

    def __init__(self, directory: Path, endpoint_url: str, label: str) -> None:
        self.directory = directory
        self.label = label
        self.binary = terraform_binary()
        self.env = {**terraform_environment(), "TF_VAR_endpoint_url": endpoint_url}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            cwd=self.directory,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=False,
        )

    def must(self, *args: str) -> None:
        result = self.run(*args)
        if result.returncode != 0:
            raise SystemExit(
                f"terraform {args[0]} ({self.label}) failed:\n{result.stdout}\n{result.stderr}"
            )

    def apply(self) -> None:
        self.must("init", "-input=false", "-no-color")
        self.must("apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20")

    def plan(self) -> tuple[float, float]:
        """Seconds a no-change plan took, wall and CPU (Terraform and its provider, which it
        waits for); a plan with changes stops the benchmark."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        result = self.run("plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode")
        elapsed = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if result.returncode != 0:
            raise SystemExit(
                f"the plan of {self.label} is not a no-change plan (exit {result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr}"
            )
        return elapsed, cpu


def measure(
    baseline: Root, module: Root, pairs: int, counter: RequestCounter
) -> dict[str, dict[str, Any]]:
    """Wall times and request counts of `pairs` plan pairs, after one unmeasured plan each."""
    baseline.plan()
    module.plan()
    counter.take()
    times: dict[str, list[float]] = {"baseline": [], "module": []}
    cpu: dict[str, list[float]] = {"baseline": [], "module": []}
    requests: dict[str, list[Counter[str]]] = {"baseline": [], "module": []}
    for index in range(pairs):
        order = [("baseline", baseline), ("module", module)]
        if index % 2:
            order.reverse()
        for key, root in order:
            wall, used = root.plan()
            times[key].append(wall)
            cpu[key].append(used)
            requests[key].append(counter.take())
    return {
        key: {"times": times[key], "cpu": cpu[key], "requests": requests[key]}
        for key in ("baseline", "module")
    }


def report(layout: str, figures: dict[str, dict[str, Any]]) -> float:
    """Print one layout's figures; the ratio of the wall-time medians."""
    medians = {key: statistics.median(item["times"]) for key, item in figures.items()}
    cpu = {key: statistics.median(item["cpu"]) for key, item in figures.items()}
    ratio = medians["module"] / medians["baseline"]
    print(f"\nparameter_store_layout = {layout!r} (load average {os.getloadavg()[0]:.1f})")
    for key in ("baseline", "module"):
        totals = [sum(counts.values()) for counts in figures[key]["requests"]]
        services = figures[key]["requests"][-1]
        by_service = ", ".join(f"{name} {count}" for name, count in sorted(services.items()))
        print(
            f"  {key:8}  wall median {medians[key]:5.2f} s"
            f" (runs {', '.join(f'{t:.2f}' for t in figures[key]['times'])}),"
            f" CPU median {cpu[key]:5.2f} s\n"
            f"            API requests per plan: {statistics.median(totals):g} ({by_service})"
        )
    verdict = "met" if ratio <= TARGET_RATIO else "missed"
    print(
        f"  ratio of wall medians (module / baseline): {ratio:.2f}x"
        f" (target <= {TARGET_RATIO}x: {verdict}); CPU: {cpu['module'] / cpu['baseline']:.2f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="plan pairs per layout (default 5)")
    parser.add_argument(
        "--layout",
        choices=[*LAYOUTS, "all"],
        default="all",
        help="the module's parameter_store_layout to measure (default: all, in turn)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directories")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")

    from smtune.emulator.server import start_emulator

    workdir = Path(tempfile.mkdtemp(prefix="plan-cost-"))
    emulator = start_emulator(port=0)
    counter = RequestCounter()
    emulator.request_observers.append(counter)
    try:
        clients_for(emulator.endpoint_url)("s3").create_bucket(Bucket=BUCKET)
        # A copy of the package: a rebuild during the run must not turn a plan into a change.
        package = Path(shutil.copy(BUNDLED_PACKAGE, workdir / BUNDLED_PACKAGE.name))
        baseline = Root(baseline_root(workdir / "baseline"), emulator.endpoint_url, "baseline")
        baseline.apply()
        layouts = LAYOUTS if args.layout == "all" else (args.layout,)
        module_dir = workdir / "module"
        for layout in layouts:
            module = Root(module_root(module_dir, layout, package), emulator.endpoint_url, "module")
            module.apply()
            report(layout, measure(baseline, module, args.pairs, counter))
    finally:
        emulator.stop()
        if args.keep:
            print(f"\nworking directories kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
