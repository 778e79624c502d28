"""The condensed progress of `make demo`: terraform apply in a few lines, heartbeats in silence."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from smtune.progress import ApplyProgress, Ticker, by_type, resource_type, stream

APPLY = """\
Terraform used the selected providers to generate the following execution plan.
  # module.tuner.aws_iam_role.lambda["prepare"] will be created
Plan: 5 to add, 0 to change, 0 to destroy.

Changes to Outputs:
  + state_machine_arn = (known after apply)
module.tuner.aws_iam_role.lambda["prepare"]: Creating...
module.tuner.aws_iam_role.lambda["best"]: Creating...
module.tuner.aws_ssm_parameter.leaf["/ml/a"]: Creating...
module.tuner.aws_iam_role.lambda["prepare"]: Creation complete after 0s [id=p]
module.tuner.aws_iam_role.lambda["best"]: Creation complete after 1s [id=b]
module.tuner.aws_ssm_parameter.leaf["/ml/a"]: Creation complete after 1s [id=/ml/a]
module.tuner.module.deployer.aws_lambda_function.this: Creating...
module.tuner.aws_sfn_state_machine.tuner: Creating...
module.tuner.module.deployer.aws_lambda_function.this: Still creating... [10s elapsed]
module.tuner.module.deployer.aws_lambda_function.this: Creation complete after 12s [id=f]
module.tuner.aws_sfn_state_machine.tuner: Creation complete after 13s [id=arn]

Apply complete! Resources: 5 added, 0 changed, 0 destroyed.

Outputs:
"""


def condensed(times: list[float], ticks: dict[int, float]) -> list[str]:
    """Feed APPLY's lines at `times`; after line i, tick at ticks[i] if given."""
    progress = ApplyProgress(started=0.0, every=3.0, quiet=5.0)
    out: list[str] = []
    for index, (line, now) in enumerate(zip(APPLY.splitlines(), times)):
        out += progress.feed(line, now)
        if index in ticks:
            out += progress.tick(ticks[index])
    return out


def test_resource_types_from_addresses() -> None:
    assert resource_type('module.tuner.aws_iam_role.lambda["prepare"]') == "aws_iam_role"
    assert resource_type("aws_sns_topic.alerts") == "aws_sns_topic"
    assert resource_type("module.m.data.aws_iam_policy_document.trust") == (
        "data.aws_iam_policy_document"
    )
    assert resource_type('module.a.aws_x_y.z["k.with.dots"]') == "aws_x_y"
    assert by_type(Counter({"a_b": 1, "c_d": 3, "e_f": 1, "g_h": 1, "i_j": 2}), limit=3) == (
        "3 c_d, 2 i_j, 1 a_b, 2 more"
    )


def test_apply_output_is_condensed_to_the_plan_progress_and_summary() -> None:
    # GIVEN an apply whose first resources finish at once and whose last ones take 13 s
    times = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 12, 14, 15, 15, 15]

    # WHEN it is condensed, with the 1-second ticks of a quiet stretch after line 13
    lines = condensed(times, ticks={13: 7.0, 14: 12.0})

    # THEN the plan, the resources it waits on while quiet, the last one done, the summary
    assert lines == [
        "  [0:00] terraform plan: 5 to add, 0 to change, 0 to destroy",
        "  [0:07] 3/5 done; latest: 2 aws_iam_role, 1 aws_ssm_parameter; "
        "waiting on 1 aws_lambda_function, 1 aws_sfn_state_machine (the longest for 5s)",
        "  [0:12] 3/5 done; "
        "waiting on 1 aws_lambda_function, 1 aws_sfn_state_machine (the longest for 10s)",
        "  [0:15] 5/5 done; latest: 1 aws_lambda_function, 1 aws_sfn_state_machine",
        "  [0:15] Apply complete! Resources: 5 added, 0 changed, 0 destroyed.",
    ]


def test_nothing_is_said_while_lines_keep_coming_within_the_interval() -> None:
    progress = ApplyProgress(started=100.0, every=3.0, quiet=5.0)
    assert progress.feed("Plan: 2 to add, 0 to change, 0 to destroy", 100.0)
    assert progress.feed("aws_sns_topic.a: Creating...", 100.5) == []
    assert progress.feed("aws_sns_topic.a: Creation complete after 0s", 101.0) == []
    assert progress.tick(104.0) == []  # 4 s of quiet: not yet
    assert progress.tick(105.5) == ["  [0:05] 1/2 done; latest: 1 aws_sns_topic"]
    assert progress.tick(106.5) == []


def test_a_quiet_start_gets_a_heartbeat() -> None:
    progress = ApplyProgress(started=0.0)
    assert progress.tick(5.0) == [
        "  [0:05] terraform is working (reading the configuration and state)"
    ]
    ticker = Ticker(started=0.0, what="terraform init: installing the provider")
    assert ticker.tick(2.0) == []
    assert ticker.tick(5.0) == ["  [0:05] terraform init: installing the provider"]
    assert ticker.tick(9.0) == []
    assert ticker.tick(10.0) == ["  [0:10] terraform init: installing the provider"]


def test_stream_prints_the_condensed_lines_and_keeps_the_raw_ones(tmp_path: Path) -> None:
    script = "import sys, time\nprint('Plan: 1 to add, 0 to change, 0 to destroy.', flush=True)\n"
    script += "print('aws_sns_topic.a: Creating...', flush=True); time.sleep(2.5)\n"
    script += "print('aws_sns_topic.a: Creation complete after 2s'); sys.exit(3)\n"
    said: list[str] = []

    code, lines = stream(
        [sys.executable, "-c", script],
        {},
        tmp_path,
        lambda started: ApplyProgress(started, quiet=1.0),
        said.append,
    )

    assert code == 3
    assert lines[-1] == "aws_sns_topic.a: Creation complete after 2s"
    assert said[0].endswith("terraform plan: 1 to add, 0 to change, 0 to destroy")
    assert any("waiting on 1 aws_sns_topic" in line for line in said)  # the heartbeat
    assert said[-1].endswith("1/1 done; latest: 1 aws_sns_topic")
