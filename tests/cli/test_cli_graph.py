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
    groups = [g for g in svg.iter(f"{NS}g") if g.get("class") not in ("failure-stub", "edge-label")]
    titles = {g.find(f"{NS}title").text for g in groups if g.find(f"{NS}title") is not None}
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


# --- the failure lane and the readability of the picture


def template_flow(name: str) -> graph.Flow:
    text = graph.fill_template(graph.state_machine_template(name).read_text())
    return graph.build_flow(graph.parse_definition(text, name))


def test_the_failure_lane_holds_what_every_caught_error_runs_into() -> None:
    assert graph.failure_lane(template_flow("parent")) == [
        "s_DescribeFailure",
        "s_FailureNotDescribed",
        "s_Notify_",
        "s_NotifyFailure",
        "s_RunFailed",
    ]
    deployer = graph.failure_lane(template_flow("deployer"))
    # a caught error first restores auto scaling; an approval that never came is described
    assert {"s_ScalingToRestore_", "s_ApprovalTimedOut"} <= set(deployer)
    assert deployer.index("s_ScalingToRestore_") < deployer.index("s_DescribeFailure")
    assert {"s_DescribeFailure", "s_NotifyFailure", "s_DeploymentFailed"} <= set(deployer)
    assert not {"s_DeploymentSucceeded", "s_CheckEndpoint", "s_WaitForTurn"} & set(deployer)
    # a machine without caught errors has no lane
    plain = graph.build_flow({"StartAt": "A", "States": {"A": {"Type": "Fail"}}})
    assert graph.failure_lane(plain) == []


@pytest.mark.parametrize("template", graph.TEMPLATES)
def test_edges_into_the_lane_become_one_stub_per_state(template: str) -> None:
    flow = template_flow(template)
    lane = set(graph.failure_lane(flow))

    main, side, stubs = graph.split_flow(flow, sorted(lane))

    into_lane = {e.source for e in flow.edges if e.target in lane and e.source not in lane}
    assert set(stubs) == into_lane  # one stub per state, however many of its edges go there
    assert not any(e.target in lane or e.source in lane for e in main.edges)
    assert {n.id for n in side.nodes} == lane | {graph.LANE_ENTRY}
    assert all("continues in the failure lane: " in tip for tip in stubs.values())


def main_layout(template: str) -> tuple[graph.Flow, graph.Layout, graph.Routes]:
    flow = template_flow(template)
    main, _side, stubs = graph.split_flow(flow, graph.failure_lane(flow))
    return (main, *graph.arrange(main, stubs))


@pytest.mark.parametrize("template", graph.TEMPLATES)
def test_the_happy_path_runs_straight_down_and_no_loop_crosses_it(template: str) -> None:
    main, result, _routes = main_layout(template)
    spine = [main.edges[i] for i in sorted(graph._spine(main, graph._back_edges(main)))]
    path = ["Start"] + [edge.target for edge in spine]

    # THEN it goes from Start to a successful end, each state right below the one before
    assert path[-1] == "End"
    centres = [result.boxes[box_id].cx for box_id in path]
    assert max(centres) - min(centres) < 0.5, dict(zip(path, centres))
    assert [result.boxes[b].y for b in path] == sorted(result.boxes[b].y for b in path)
    # AND every loop runs back up on its right
    for edge, points, reversed_ in result.routes:
        if reversed_ and edge.source != edge.target:
            assert all(x > centres[0] for x, _ in points[1:-1]), edge


@pytest.mark.parametrize("template", graph.TEMPLATES)
def test_edge_labels_sit_clear_of_states_and_edges(template: str) -> None:
    _main, result, routes = main_layout(template)
    curves = [graph._curve(points) for _edge, points, _anchor in routes]
    boxes = [b for b in result.boxes.values() if not b.dummy]
    labelled = [(edge, anchor) for edge, _points, anchor in routes if anchor is not None]
    assert labelled or template == "parent"  # the parent's only labels are in its lane
    rects = [graph.label_rect(anchor, graph.shown_label(edge)) for edge, anchor in labelled]
    for (edge, _anchor), rect in zip(labelled, rects):
        for box in boxes:  # no state under a label
            assert (
                rect[2] <= box.x - box.width / 2
                or rect[0] >= box.x + box.width / 2
                or rect[3] <= box.y - box.height / 2
                or rect[1] >= box.y + box.height / 2
            ), (edge.label, box.id)
        for curve in curves:  # no edge under a label, not even its own
            assert not any(graph._crosses(a, b, rect) for a, b in zip(curve, curve[1:])), edge
    for i, a in enumerate(rects):  # and no label under another
        for b in rects[i + 1 :]:
            assert a[2] <= b[0] or a[0] >= b[2] or a[3] <= b[1] or a[1] >= b[3]


def test_the_svg_draws_the_lane_beside_the_main_flow(tmp_path: Path) -> None:
    flow = template_flow("deployer")
    svg = ElementTree.fromstring(graph.to_svg(flow, "deployer"))

    [lane] = [r for r in svg.iter(f"{NS}rect") if r.get("class") == "failure-lane"]
    stubs = [g for g in svg.iter(f"{NS}g") if g.get("class") == "failure-stub"]
    _main, _side, tips = graph.split_flow(flow, graph.failure_lane(flow))
    assert len(stubs) == len(tips) + 2  # one per state, the lane's entry, the legend's sample
    _main, result, _routes = main_layout("deployer")
    right_of_main = max(b.x + b.width / 2 for b in result.boxes.values())
    assert float(lane.get("x")) > right_of_main


def test_mermaid_puts_the_lane_in_a_subgraph() -> None:
    text = graph.to_mermaid(template_flow("parent"))

    block = text.split('    subgraph FailureLane["failure lane"]\n', 1)[1].split("    end\n", 1)[0]
    assert [line.split('"')[0].strip() for line in block.splitlines()] == [
        "s_DescribeFailure[",
        "s_FailureNotDescribed[/",
        "s_Notify_{",
        "s_NotifyFailure[",
        "s_RunFailed([",
    ]
    assert '    s_Tune -.->|"States.ALL"| s_DescribeFailure\n' in text
