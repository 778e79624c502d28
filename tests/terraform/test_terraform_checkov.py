"""checkov over the Terraform: no failed check, and every skipped one justified inline.

Two scans: of the directory (every .tf file), and of the plan JSON (`terraform show -json`) of
the default configuration and of one with every option on. A plan carries no comments, so the
plan scans read the `#checkov:skip=ID:reason` comments from the module's .tf files with
`--repo-root-for-plan-enrichment`. checkov matches a plan resource to a .tf block by resource
type and name only (`aws_cloudwatch_log_group.this`), whatever module it sits in: the blocks
that share a type and name must therefore skip the same checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.terraform import REPO_ROOT, TOOLCHAIN, planned_resources

pytestmark = [
    pytest.mark.terraform,
    # The plan scans share the session's plans with the other plan tests.
    pytest.mark.xdist_group("terraform-plans"),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

CHECKOV = TOOLCHAIN / "checkov-venv" / "bin" / "checkov"
PLANS = ("default_plan", "all_options_plan")
# The module's own Terraform: the root module and its submodules (not the examples).
MODULE_SOURCES = ("*.tf", "modules/*/*.tf")
RESOURCE_BLOCK = re.compile(r'^resource\s+"([^"]+)"\s+"([^"]+)"\s*\{')
SKIP_COMMENT = re.compile(r"^\s*#\s*checkov:skip=([A-Z0-9_]+)")


def _report(stdout: str, stderr: str) -> dict[str, Any]:
    assert stdout.strip(), stderr
    report = json.loads(stdout)
    return report[0] if isinstance(report, list) else report


def _offline() -> dict[str, str]:
    return {**os.environ, "BC_SKIP_MAPPING": "TRUE"}


@pytest.fixture(scope="module")
def checkov_results() -> dict:
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV} (make test installs it)")
    scan = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(REPO_ROOT),
            "--framework",
            "terraform",
            "--skip-path",
            ".toolchain",
            "--skip-path",
            ".venv",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=_offline(),
        timeout=300,
    )
    return _report(scan.stdout, scan.stderr)


def test_no_check_fails(checkov_results: dict) -> None:
    failed = checkov_results["results"].get("failed_checks", [])

    assert checkov_results["summary"]["parsing_errors"] == 0
    assert checkov_results["summary"]["passed"] > 50
    assert [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in failed] == []


def checked_blocks(report: dict[str, Any]) -> set[tuple[str, str]]:
    """(file, "type.name") of every resource block a scan ran a check on, whatever the outcome."""
    return {
        (check["file_path"].lstrip("/"), ".".join(check["resource"].split(".")[-2:]))
        for outcome in ("passed_checks", "failed_checks", "skipped_checks")
        for check in report["results"].get(outcome, [])
    }


def test_the_directory_scan_reaches_the_functions_and_state_machines(
    checkov_results: dict,
) -> None:
    # The Lambda functions are module instances (for_each); checkov must still evaluate the
    # blocks they are made of, not only the plan.
    expected = {
        (str(path.relative_to(REPO_ROOT)), block)
        for path in module_files()
        if path.parent.name in ("lambda-function", "state-machine")
        for block in skips_by_block([path])
    }

    assert expected
    assert expected - checked_blocks(checkov_results) == set()


def test_every_skipped_check_says_why(checkov_results: dict) -> None:
    skipped = checkov_results["results"].get("skipped_checks", [])

    assert skipped
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} in {check['file_path']}: {reason!r}"


# ---------------------------------------------------------------------------------------------
# Plan scans
# ---------------------------------------------------------------------------------------------


def module_files() -> list[Path]:
    return sorted(path for pattern in MODULE_SOURCES for path in REPO_ROOT.glob(pattern))


def skips_by_block(files: list[Path]) -> dict[str, dict[str, set[str]]]:
    """The checks each resource block skips: {"type.name": {"file": {check ids}}}."""
    found: dict[str, dict[str, set[str]]] = {}
    for path in files:
        block = None
        for line in path.read_text().splitlines():
            start = RESOURCE_BLOCK.match(line)
            if start:
                block = f"{start.group(1)}.{start.group(2)}"
                relative = str(path.relative_to(REPO_ROOT))
                found.setdefault(block, {})[relative] = set()
            elif line.startswith("}"):
                block = None
            elif block:
                skip = SKIP_COMMENT.match(line)
                if skip:
                    found[block][relative].add(skip.group(1))
    return found


@pytest.fixture(scope="module")
def plan_reports(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """checkov's report on each plan, the skips read from a copy of the module's .tf files
    (so nothing else in the working tree, such as an example, can stand in for them)."""
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV} (make test installs it)")
    directory = tmp_path_factory.mktemp("checkov-plans")
    sources = directory / "module"
    for path in module_files():
        target = sources / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    scans = {}
    for name in PLANS:
        plan_file = directory / f"{name}.json"
        plan_file.write_text(json.dumps(request.getfixturevalue(name)))
        command = [
            str(CHECKOV),
            "--file",
            str(plan_file),
            "--framework",
            "terraform_plan",
            "--repo-root-for-plan-enrichment",
            str(sources),
            "--skip-download",
            "--output",
            "json",
        ]
        # Both scans at once: each takes a few seconds.
        scans[name] = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_offline()
        )
    reports = {}
    for name, scan in scans.items():
        stdout, stderr = scan.communicate(timeout=300)
        reports[name] = _report(stdout, stderr)
    return reports


@pytest.mark.parametrize("plan_name", PLANS)
def test_no_check_fails_on_the_plan(plan_name: str, plan_reports: dict[str, dict]) -> None:
    report = plan_reports[plan_name]
    failed = report["results"].get("failed_checks", [])

    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 200
    assert [f"{c['check_id']} {c['resource']}" for c in failed] == []


@pytest.mark.parametrize("plan_name", PLANS)
def test_the_plan_scan_checks_every_role_policy(
    plan_name: str, plan_reports: dict[str, dict], request: pytest.FixtureRequest
) -> None:
    # Policies written with jsonencode() and conditionals are out of reach of the directory
    # scan: the plan, which holds them rendered, is where checkov reads them.
    policies = {
        p["address"]
        for p in planned_resources(request.getfixturevalue(plan_name), "aws_iam_role_policy")
    }
    checked = {
        check["resource"]
        for outcome in ("passed_checks", "failed_checks", "skipped_checks")
        for check in plan_reports[plan_name]["results"].get(outcome, [])
    }

    assert len(policies) >= 12
    assert policies - checked == set()


@pytest.mark.parametrize("plan_name", PLANS)
def test_every_check_skipped_on_the_plan_is_justified_in_the_module(
    plan_name: str, plan_reports: dict[str, dict]
) -> None:
    skipped = plan_reports[plan_name]["results"].get("skipped_checks", [])
    sources = {str(path.relative_to(REPO_ROOT)) for path in module_files()}

    assert skipped
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, f"{check['check_id']} {check['resource']}: {reason!r}"
        assert check["file_path"].lstrip("/") in sources, check["file_path"]


def test_log_groups_use_cloudwatch_logs_encryption_unless_a_key_is_given(
    plan_reports: dict[str, dict], default_plan: dict, all_options_plan: dict
) -> None:
    def log_group_results(plan_name: str, outcome: str) -> list[str]:
        return sorted(
            c["resource"]
            for c in plan_reports[plan_name]["results"].get(outcome, [])
            if c["check_id"] == "CKV_AWS_158"
        )

    def log_groups(plan: dict) -> list[str]:
        return sorted(g["address"] for g in planned_resources(plan, "aws_cloudwatch_log_group"))

    # By default no log group names a key: each one is skipped, with the module's reason.
    assert log_group_results("default_plan", "skipped_checks") == log_groups(default_plan)
    reasons = {
        c["check_result"]["suppress_comment"]
        for c in plan_reports["default_plan"]["results"]["skipped_checks"]
        if c["check_id"] == "CKV_AWS_158"
    }
    assert all("CloudWatch Logs encrypts every log group at rest" in r for r in reasons)
    # Given kms_key_arns.logs, every log group passes the check instead.
    assert log_group_results("all_options_plan", "passed_checks") == log_groups(all_options_plan)
    assert log_group_results("all_options_plan", "skipped_checks") == []


def test_blocks_that_share_a_type_and_name_skip_the_same_checks() -> None:
    blocks = skips_by_block(module_files())

    assert "aws_cloudwatch_log_group.this" in blocks
    for block, files in blocks.items():
        distinct = {frozenset(skips) for skips in files.values()}
        assert len(distinct) == 1, f"{block}: {files}"
