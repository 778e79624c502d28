"""`smtune graph`: Mermaid text and an SVG image from a deployed machine, a file or a template."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from smtune import graph

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
NS = "{http://www.w3.org/2000/svg}"


def state_names(path: Path) -> set[str]:
    definition = json.loads(graph.fill_template(path.read_text()))
    return set(definition["States"])


@pytest.mark.parametrize("template", graph.TEMPLATES)
def test_every_template_becomes_mermaid_with_all_its_states(cli, template: str) -> None:
    result = cli("graph", "--template", template)

    assert result.code == 0
    assert result.out.startswith("flowchart TD\n")
    for name in state_names(REPO / "statemachine" / f"{template}.asl.json"):
        assert f'"{name}' in result.out, name


def test_the_image_is_svg_with_one_box_per_state(cli, tmp_path: Path) -> None:
    image, mermaid = tmp_path / "deployer.svg", tmp_path / "deployer.mmd"

    result = cli("graph", "--definition", str(DATA / "deployer.asl.json"), "--image", str(image),
                 "--output", str(mermaid))  # fmt: skip

    assert result.code == 0
    assert result.out == ""  # the files were asked for: nothing on stdout
    svg = ElementTree.fromstring(image.read_text())
    titles = {title.text for title in svg.iter(f"{NS}title")}
    expected = {f"{state['Type']}: {name}" for name, state in
                json.loads(graph.fill_template((DATA / "deployer.asl.json").read_text()))["States"].items()}  # fmt: skip
    assert titles == expected
    assert mermaid.read_text().startswith("flowchart TD\n")


def test_a_deployed_state_machine(cli, aws) -> None:
    definition = json.loads(graph.fill_template((DATA / "deployer.asl.json").read_text()))
    machine = aws.state_machine(definition, name="graph-deployer")

    result = cli("graph", "--state-machine-arn", machine)

    assert result.code == 0
    assert 's_PlanDeployment["PlanDeployment<br/>lambda:invoke"]' in result.out
    assert 's_InputValid_{"InputValid?"}' in result.out


def test_describe_state_machine_output_is_accepted(cli, tmp_path: Path) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    described = tmp_path / "described.json"
    described.write_text(json.dumps({"name": "m", "definition": json.dumps(definition)}))

    result = cli("graph", "--definition", str(described))

    assert result.code == 0
    assert "Start --> s_A" in result.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON at line 1 column 2: "
                      "Expecting property name enclosed in double quotes"),
        ('{"Comment": "no states"}', "not a state machine definition (no 'States' object)"),
        ('{"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}}',
         "'StartAt' does not name one of its states"),
    ],
)  # fmt: skip
def test_bad_definitions_are_named(cli, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "machine.asl.json"
    path.write_text(content)

    result = cli("graph", "--definition", str(path))

    assert result.code == 2
    assert result.err == f"smtune: error: {path}: {message}\n"


def test_errors_of_the_other_sources(cli, aws, tmp_path: Path) -> None:
    missing = cli("graph", "--definition", str(tmp_path / "none.json"))
    assert (missing.code, missing.err) == (
        2,
        f"smtune: error: {tmp_path / 'none.json'}: file not found\n",
    )

    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:absent"
    unknown = cli("graph", "--state-machine-arn", arn)
    assert (unknown.code, unknown.err) == (2, f"smtune: error: state machine not found: {arn}\n")

    png = cli("graph", "--template", "tuner", "--image", str(tmp_path / "x.png"))
    assert png.code == 2
    assert "the image is written as SVG" in png.err

    both = cli("graph", "--template", "tuner", "--definition", "x.json")
    assert both.code == 2
    assert "not allowed with argument" in both.err


# --- the template filler and the layout


def test_template_placeholders_get_dummies_and_directives_keep_one_branch() -> None:
    template = """{
  "Arn": "${lambda_arn}",
  "Doc": ${jsonencode(ml_parameters)},
  "Literal": "$${not_a_placeholder}",
  "Params": {
    "A": 1,
%{ if has_b ~}
    "B": "${b}",
%{ else ~}
    "C": 3,
%{ endif ~}
  }
}"""

    filled = json.loads(graph.fill_template(template))

    assert filled == {
        "Arn": "lambda_arn",
        "Doc": None,
        "Literal": "${not_a_placeholder}",
        "Params": {"A": 1, "B": "b"},
    }


def test_an_unclosed_placeholder_is_reported() -> None:
    with pytest.raises(graph.CliError, match=r"'\$\{' or '%\{' without its closing"):
        graph.fill_template('{"a": "${oops"')


def test_layout_points_every_forward_edge_down_and_keeps_boxes_apart() -> None:
    definition = json.loads(graph.fill_template((DATA / "deployer.asl.json").read_text()))
    flow = graph.build_flow(definition)

    result = graph.layout(flow)

    boxes = {k: b for k, b in result.boxes.items() if not b.dummy}
    for edge, points, reversed_ in result.routes:
        source, target = result.boxes[edge.source], result.boxes[edge.target]
        if reversed_:
            assert target.layer < source.layer  # a loop goes back up
        elif edge.source != edge.target:
            assert target.layer > source.layer
            assert all(b[1] > a[1] for a, b in zip(points, points[1:]))
    reversed_edges = {(e.source, e.target) for e, _, r in result.routes if r}
    assert reversed_edges == {("s_EndpointOutcome_", "s_WaitForEndpoint")}
    placed = list(boxes.values())
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            if a.layer == b.layer:
                assert abs(a.x - b.x) >= (a.width + b.width) / 2, (a.id, b.id)


def test_choice_rules_read_as_short_conditions() -> None:
    assert graph.describe_rule({"Variable": "$.plan.valid", "BooleanEquals": False}) == "not valid"
    assert (
        graph.describe_rule({"Variable": "$.check.outcome", "StringEquals": "Waiting"})
        == 'outcome == "Waiting"'
    )
    rule = {
        "And": [
            {"Variable": "$.a.attempt", "NumericGreaterThanEqualsPath": "$.a.max"},
            {"Not": {"Variable": "$.a.flag", "IsPresent": True}},
        ]
    }
    assert graph.describe_rule(rule) == "attempt >= max and not (flag present)"


def test_mermaid_labels_escape_quotes() -> None:
    flow = graph.build_flow(
        {
            "StartAt": "Is it?",
            "States": {
                "Is it?": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.x", "StringEquals": 'say "hi"', "Next": "Done"}],
                    "Default": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )

    text = graph.to_mermaid(flow)

    assert '-->|"x == #quot;say \\#quot;hi\\#quot;#quot;"| s_Done' in text
    assert re.search(r"s_Is_it_\{\"Is it\?\"\}", text)
