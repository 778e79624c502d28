"""`smtune validate`: every problem at once, with its JSON path; exit 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

REPO = Path(__file__).resolve().parents[2]

SEED = REPO / "examples" / "seed"


def write(path: Path, document: object) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_the_seed_files_are_valid(cli) -> None:
    result = cli(
        "validate",
        "--ml-parameters",
        str(SEED / "template-ml-parameters.json"),
        "--hyperparameters",
        str(SEED / "hyperparameters.json"),
        "--manifest",
        str(SEED / "manifest.json"),
    )

    assert result.code == 0
    assert result.out.count(": valid ") == 3
    assert result.err == ""


def test_every_problem_is_printed_with_its_file_and_json_path(cli, tmp_path: Path) -> None:
    # GIVEN an ml-parameters file with three independent mistakes
    document = json.loads((SEED / "template-ml-parameters.json").read_text())
    document["tuningStrategy"] = "Bayes"
    del document["endpointName"]
    document["model"]["hosting"]["instanceType"] = 3
    path = write(tmp_path / "ml-parameters.json", document)

    # WHEN it is validated
    result = cli("validate", "--ml-parameters", path)

    # THEN all three are reported, each on its own line, and the exit code says invalid
    assert result.code == 1
    lines = result.out.splitlines()
    assert f"{path}: $.tuningStrategy: 'Bayes' is not one of Bayesian, Random, Hyperband, Grid" in (
        lines
    )
    assert any(line.startswith(f"{path}: $: ") and "endpointName" in line for line in lines)
    assert any(line.startswith(f"{path}: $.model.hosting.instanceType: ") for line in lines)
    assert lines[-1] == "3 problems in 1 of 1 file"


def test_a_valid_and_an_invalid_file_together(cli, tmp_path: Path) -> None:
    manifest = write(tmp_path / "manifest.json", {"channels": []})

    result = cli(
        "validate",
        "--hyperparameters",
        str(SEED / "hyperparameters.json"),
        "--manifest",
        manifest,
    )

    assert result.code == 1
    assert f"{SEED / 'hyperparameters.json'}: valid hyperparameters file" in result.out
    assert f"{manifest}: $.channels: " in result.out
    assert result.out.splitlines()[-1] == "1 problem in 1 of 2 files"


def test_json_output_for_scripts(cli, tmp_path: Path) -> None:
    manifest = write(
        tmp_path / "manifest.json",
        {"channels": [{"channelName": "train", "s3DataSource": {"S3Uri": "not-s3"}}]},
    )

    result = cli("validate", "--manifest", manifest, "--json")

    assert result.code == 1
    report = json.loads(result.out)
    assert report["valid"] is False
    [entry] = report["files"]
    assert entry["kind"] == "manifest"
    assert entry["valid"] is False
    assert "$.channels[0].s3DataSource.S3Uri" in [p["path"] for p in entry["problems"]]


def test_a_missing_file_is_one_line_and_exit_2(cli, tmp_path: Path) -> None:
    result = cli("validate", "--manifest", str(tmp_path / "nope.json"))

    assert result.code == 2
    assert result.out == ""
    assert result.err == f"smtune: error: {tmp_path / 'nope.json'}: file not found\n"


def test_invalid_json_names_the_line_and_column(cli, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{\n  "channels": [,]\n}\n')

    result = cli("validate", "--manifest", str(path))

    assert result.code == 2
    assert result.err == (
        f"smtune: error: {path}: invalid JSON at line 2 column 16: a value was expected here.\n"
    )


def test_a_truncated_file_is_described_in_a_whole_sentence(cli, tmp_path: Path) -> None:
    # GIVEN the seed's template cut short in the middle of a string
    text = (SEED / "template-ml-parameters.json").read_text()
    path = tmp_path / "ml-parameters.json"
    path.write_text(text[: text.index('"survival-endpoint"') + 6])

    result = cli("validate", "--ml-parameters", str(path))

    # THEN the message is one sentence: where the string starts, and that the file ends in it
    line = text[: text.index('"survival-endpoint"')].count("\n") + 1
    column = len(text[: text.index('"survival-endpoint"')].rsplit("\n", 1)[1]) + 1
    assert result.code == 2
    assert result.err == (
        f"smtune: error: {path}: invalid JSON at line {line} column {column}: a string starts "
        "here and is never closed (the file ends inside it: is it cut short?).\n"
    )
    assert "starting at" not in result.err


def test_a_directory_is_not_a_file(cli, tmp_path: Path) -> None:
    result = cli("validate", "--ml-parameters", str(tmp_path))

    assert result.code == 2
    assert result.err == f"smtune: error: {tmp_path}: is a directory, not a file\n"


def test_at_least_one_file_is_needed(cli) -> None:
    result = cli("validate")

    assert result.code == 2
    assert "--ml-parameters, --hyperparameters, --manifest" in result.err


def test_bucket_refuses_a_channel_on_another_bucket(cli, tmp_path: Path) -> None:
    # GIVEN the seed's manifest with its validation channel moved to another bucket
    document = json.loads((SEED / "manifest.json").read_text())
    document["channels"][1]["s3DataSource"]["S3Uri"] = "s3://someone-elses-bucket/validation/"
    path = write(tmp_path / "manifest.json", document)
    bucket = document["channels"][0]["s3DataSource"]["S3Uri"].split("/")[2]

    # WHEN it is validated against the deployment's buckets
    result = cli("validate", "--manifest", path, "--bucket", bucket, "--bucket", "s3://shared/")

    # THEN the channel is named with the foreign bucket and the allowed ones; exit 1
    assert result.code == 1
    assert result.out.splitlines() == [
        f"{path}: $.channels[1].s3DataSource.S3Uri: channel 'validation': bucket "
        f"'someone-elses-bucket' is not one of this deployment's buckets: {bucket}, shared",
        f"{path}: warning: $.channels[0].s3DataSource.S3Uri: still holds the template "
        "placeholder <s3bucket>: fill in the value",
        "1 problem in 1 of 1 file",
    ]


def test_bucket_accepts_channels_on_the_given_buckets(cli) -> None:
    document = json.loads((SEED / "manifest.json").read_text())
    bucket = document["channels"][0]["s3DataSource"]["S3Uri"].split("/")[2]

    result = cli("validate", "--manifest", str(SEED / "manifest.json"), "--bucket", bucket)

    assert result.code == 0
    assert result.out.splitlines()[0] == f"{SEED / 'manifest.json'}: valid manifest file"
    assert all(": warning: " in line for line in result.out.splitlines()[1:])


def test_without_bucket_any_bucket_is_accepted(cli, tmp_path: Path) -> None:
    document = json.loads((SEED / "manifest.json").read_text())
    document["channels"][1]["s3DataSource"]["S3Uri"] = "s3://someone-elses-bucket/validation/"
    assert cli("validate", "--manifest", write(tmp_path / "m.json", document)).code == 0


def test_bucket_needs_a_manifest_to_check(cli) -> None:
    result = cli(
        "validate", "--hyperparameters", str(SEED / "hyperparameters.json"), "--bucket", "b"
    )

    assert result.code == 2
    assert "--bucket checks the channels of --manifest" in result.err


def test_a_forged_line_in_a_key_is_printed_as_one_escaped_line(cli, tmp_path: Path) -> None:
    # GIVEN a manifest whose unknown key carries a line break and a fake verdict
    document = json.loads((SEED / "manifest.json").read_text())
    document["channels"][0]["x\nmanifest.json: valid manifest file"] = 1
    path = write(tmp_path / "manifest.json", document)

    # WHEN it is validated
    result = cli("validate", "--manifest", path)

    # THEN the key is one escaped line of the report; no line claims the file is valid
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if ": warning: $.channels" not in line]
    assert len(lines) == 2
    assert "['x\\nmanifest.json: valid manifest file']" in lines[0]
    assert not any(line.startswith("manifest.json: valid") for line in lines)


def test_a_warning_is_printed_and_the_file_stays_valid(cli, tmp_path: Path) -> None:
    # GIVEN the seed's template carrying its retired Elastic Inference accelerator
    document = json.loads((SEED / "template-ml-parameters.json").read_text())
    document["model"]["hosting"]["acceleratorType"] = "ml.eia2.medium"
    path = write(tmp_path / "ml-parameters.json", document)

    # WHEN it is validated
    result = cli("validate", "--ml-parameters", path)

    # THEN it is valid (exit 0), and the warning names the field and says why it is ignored
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"{path}: valid ml-parameters file"
    assert lines[1].startswith(f"{path}: warning: $.model.hosting.acceleratorType: ")
    assert "Elastic Inference was retired in April 2024" in lines[1]

    # AND scripts get it as JSON
    report = json.loads(cli("validate", "--ml-parameters", path, "--json").out)
    assert report["valid"] is True
    [entry] = report["files"]
    assert entry["problems"] == []
    assert [w["path"] for w in entry["warnings"] if "placeholder" not in w["message"]] == [
        "$.model.hosting.acceleratorType"
    ]


TEMPLATE_PLACEHOLDERS = [
    ("$.algorithmARN", "placeholders <region>, <account-id>"),
    ("$.spotTrainingCheckpointS3Uri", "placeholder <bucket-name>"),
    ("$.model.artifactsS3OutputPath", "placeholder <bucket-name>"),
    ("$.model.trainingSecurityGroupIds[0]", "placeholder <security-group-1>"),
    ("$.model.trainingSubnets[0]", "placeholder <subnet-1>"),
    ("$.model.trainingSubnets[1]", "placeholder <subnet-2>"),
    ("$.model.trainingSubnets[2]", "placeholder <subnet-3>"),
    ("$.model.hosting.securityGroupIds[0]", "placeholder <security-group-1>"),
    ("$.model.hosting.subnets[0]", "placeholder <subnet-1>"),
    ("$.model.hosting.subnets[1]", "placeholder <subnet-2>"),
    ("$.model.hosting.subnets[2]", "placeholder <subnet-3>"),
]


def test_unfilled_placeholders_are_warnings_naming_each_path(cli) -> None:
    path = str(SEED / "template-ml-parameters.json")

    result = cli("validate", "--ml-parameters", path)

    # THEN the seed's template is still valid (exit 0), with one warning per unfilled value
    assert result.code == 0
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == f"{path}: valid ml-parameters file"
    assert lines[1:] == [
        f"{path}: warning: {json_path}: still holds the template {what}: fill in the value"
        for json_path, what in TEMPLATE_PLACEHOLDERS
    ]
    report = json.loads(cli("validate", "--ml-parameters", path, "--json").out)
    assert report["valid"] is True
    assert [w["path"] for w in report["files"][0]["warnings"]] == [
        json_path for json_path, _ in TEMPLATE_PLACEHOLDERS
    ]


def test_strict_makes_placeholders_problems(cli, tmp_path: Path) -> None:
    # GIVEN the seed's template with every placeholder filled in but one
    document = json.loads((SEED / "template-ml-parameters.json").read_text())
    text = json.dumps(document).replace("<region>", "eu-west-1")
    for name in ("account-id", "bucket-name", "security-group-1"):
        text = text.replace(f"<{name}>", "x1")
    text = text.replace("<subnet-1>", "subnet-1").replace("<subnet-3>", "subnet-3")
    path = tmp_path / "ml-parameters.json"
    path.write_text(text)

    warned = cli("validate", "--ml-parameters", str(path))
    strict = cli("validate", "--ml-parameters", str(path), "--strict")
    strict_json = json.loads(
        cli("validate", "--ml-parameters", str(path), "--strict", "--json").out
    )

    assert warned.code == 0
    assert strict.code == 1
    assert strict.out.splitlines() == [
        f"{path}: $.model.trainingSubnets[1]: still holds the template placeholder <subnet-2>: "
        "fill in the value",
        f"{path}: $.model.hosting.subnets[1]: still holds the template placeholder <subnet-2>: "
        "fill in the value",
        "2 problems in 1 of 1 file",
    ]
    assert strict_json["valid"] is False
    assert strict_json["files"][0]["warnings"] == []


def test_strict_passes_a_file_without_warnings(cli) -> None:
    path = str(REPO / "examples" / "params" / "ml-parameters.json")

    result = cli("validate", "--ml-parameters", path, "--strict")

    assert result.code == 0
    assert result.out == f"{path}: valid ml-parameters file\n"


def test_angle_brackets_that_are_no_placeholder_are_not_warned(tmp_path: Path) -> None:
    from smtune.documents import placeholder_warnings

    assert placeholder_warnings({"a": "x < y > z", "b": ["<>", 3, None], "c": {"<key>": 1}}) == []
    assert placeholder_warnings({"tags": {"team name": ["ok", "<team>"]}}) == [
        ("$.tags['team name'][1]", "still holds the template placeholder <team>: fill in the value")
    ]
