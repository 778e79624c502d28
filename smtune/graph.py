"""`smtune graph`: a state machine as Mermaid text and as an SVG image laid out here.

The SVG layout is a small layered (Sugiyama-style) layout, top to bottom: loops are turned
around to find the layers, long edges get bend points of their own so they never cut through a
state, the order inside each layer is improved by barycentre sweeps, and nodes are pulled
towards their neighbours so the main path stays straight.

Failure handling is drawn apart, so the happy path reads top to bottom: the states that every
caught error runs into (those from which every path ends in a Fail state, from the targets of
the Catch clauses on) form a failure lane beside the main flow, and each state that continues
there ends in a short `failure` stub instead of an edge across the picture. Edge labels are
placed beside their edges, clear of states, other labels and other edges.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from smtune.errors import CliError
from smtune.svg import FONT, esc, text_width

TEMPLATES = ("tuner", "deployer", "parent")
_LABEL_LIMIT = 48


@dataclass
class Node:
    id: str
    label: str
    kind: str  # an ASL state type, or "start" / "end"
    detail: str = ""


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch
    label: str = ""


@dataclass
class Flow:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Reading state machine definitions


def template_dirs() -> list[Path]:
    """Where the statemachine/*.asl.json templates are: inside the installed package (a wheel
    ships them as smtune/statemachine), else beside the package in a checkout of the repository."""
    packaged = resources.files("smtune").joinpath("statemachine")
    return [Path(str(packaged)), Path(__file__).resolve().parent.parent / "statemachine"]


def state_machine_template(name: str, root: Path | None = None) -> Path:
    """statemachine/<name>.asl.json, from `root` or from the package or the repository."""
    bases = [root] if root else template_dirs()
    for base in bases:
        path = base / f"{name}.asl.json"
        if path.is_file():
            return path
    raise CliError(
        f"--template {name}: {bases[-1] / f'{name}.asl.json'} not found (the templates ship with "
        "the repository and the package; use --definition FILE or --state-machine-arn ARN instead)"
    )


def fill_template(text: str) -> str:
    """A templatefile() template made parseable: placeholders get dummy values.

    `${...}` inside a JSON string becomes a word, elsewhere `null`; `%{ if }` keeps its first
    branch, `%{ for }` its body once; `$${` and `%%{` are the template language's escapes.
    """
    out: list[str] = []
    skipping: list[bool] = []  # one entry per open %{ if } / %{ for }
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("$${", i) or text.startswith("%%{", i):
            if not any(skipping):
                out.append(text[i + 1 : i + 3])
            i += 3
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _closing_brace(text, i + 2)
            body = text[i + 2 : end].strip().strip("~").strip()
            if char == "%":
                word = body.split(None, 1)[0] if body else ""
                if word in ("if", "for"):
                    skipping.append(any(skipping))
                elif word == "else" and skipping:
                    skipping[-1] = True
                elif word in ("endif", "endfor") and skipping:
                    skipping.pop()
            elif not any(skipping):
                out.append(re.sub(r"\W+", "_", body).strip("_") or "x" if in_string else "null")
            i = end + 1
            continue
        if not any(skipping):
            out.append(char)
            if char == '"' and not _escaped(text, i):
                in_string = not in_string
        i += 1
    filled = "".join(out)
    return re.sub(r",(\s*[}\]])", r"\1", filled)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise CliError("the template has a '${' or '%{' without its closing '}'")


def parse_definition(text: str, source: str) -> dict[str, Any]:
    """An ASL document from JSON text; also accepts DescribeStateMachine output."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    if isinstance(document, dict) and isinstance(document.get("definition"), str):
        return parse_definition(document["definition"], source)
    if not isinstance(document, dict) or not isinstance(document.get("States"), dict):
        raise CliError(f"{source}: not a state machine definition (no 'States' object)")
    if document.get("StartAt") not in document["States"]:
        raise CliError(f"{source}: 'StartAt' does not name one of its states")
    return document


# ---------------------------------------------------------------------------------------------
# ASL -> nodes and edges


def resource_summary(state: dict[str, Any]) -> str:
    """What a Task calls, short: `lambda:invoke`, `sagemaker:createModel`, ..."""
    resource = str(state.get("Resource", ""))
    if resource.startswith("arn:aws:states:::"):
        return resource[len("arn:aws:states:::") :].removeprefix("aws-sdk:")
    if ":lambda:" in resource and ":function:" in resource:
        return "lambda " + resource.split(":function:", 1)[1].split(":", 1)[0]
    if ":states:" in resource and ":activity:" in resource:
        return "activity " + resource.rsplit(":", 1)[-1]
    return resource


_COMPARISONS = {
    "Equals": "==",
    "GreaterThan": ">",
    "GreaterThanEquals": ">=",
    "LessThan": "<",
    "LessThanEquals": "<=",
    "Matches": "matches",
}


def describe_rule(rule: dict[str, Any]) -> str:
    """A Choice rule in a few words: `$.valid == false`, `$.check.outcome == "Waiting"`."""
    if "Condition" in rule:
        return str(rule["Condition"])
    for joiner in ("And", "Or"):
        if isinstance(rule.get(joiner), list):
            return f" {joiner.lower()} ".join(describe_rule(part) for part in rule[joiner])
    if isinstance(rule.get("Not"), dict):
        return f"not ({describe_rule(rule['Not'])})"
    variable = str(rule.get("Variable", "?")).rsplit(".", 1)[-1]
    for key, value in rule.items():
        if key in ("Variable", "Next", "Comment", "Assign", "Output"):
            continue
        by_path = key.endswith("Path")
        base = key[:-4] if by_path else key
        if base == "IsPresent":
            return f"{variable} {'present' if value else 'absent'}"
        if base.startswith("Is"):
            return f"{variable} {'is' if value else 'is not'} {base[2:].lower()}"
        if base == "BooleanEquals" and not by_path:
            return variable if value else f"not {variable}"
        symbol = next(
            (
                _COMPARISONS[suffix]
                for suffix in sorted(_COMPARISONS, key=len, reverse=True)
                if base.endswith(suffix)
            ),
            base,
        )
        shown = str(value).rsplit(".", 1)[-1] if by_path else json.dumps(value)
        return f"{variable} {symbol} {shown}"
    return variable


def _clip(text: str, limit: int = _LABEL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _detail(state: dict[str, Any]) -> str:
    kind = state.get("Type", "")
    if kind == "Task":
        return _clip(resource_summary(state))
    if kind == "Wait":
        if "Seconds" in state:
            return f"wait {state['Seconds']}s"
        if "SecondsPath" in state:
            return f"wait {state['SecondsPath']} seconds"
        for key in ("Timestamp", "TimestampPath"):
            if key in state:
                return f"wait until {state[key]}"
    if kind == "Parallel":
        return f"parallel, {len(state.get('Branches', []))} branches"
    if kind == "Map":
        inner = state.get("ItemProcessor") or state.get("Iterator") or {}
        return f"map over items, {len(inner.get('States', {}))} states"
    return ""


def build_flow(definition: dict[str, Any]) -> Flow:
    states: dict[str, Any] = definition["States"]
    ids: dict[str, str] = {}
    for name in states:
        base = "s_" + (re.sub(r"\W", "_", name) or "state")
        candidate, suffix = base, 2
        while candidate in ids.values():
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        ids[name] = candidate

    # Mermaid reads a lower-case `end` as a keyword: the terminal ids are capitalised.
    flow = Flow(nodes=[Node("Start", "Start", "start")])
    flow.edges.append(Edge("Start", ids[definition["StartAt"]], "next"))
    needs_end = False
    for name, state in states.items():
        kind = str(state.get("Type", "Task"))
        flow.nodes.append(Node(ids[name], name, kind, _detail(state)))

        def link(target: Any, edge_kind: str, label: str = "", source: str = name) -> None:
            if isinstance(target, str) and target in ids:
                flow.edges.append(Edge(ids[source], ids[target], edge_kind, _clip(label)))

        if kind == "Choice":
            for rule in state.get("Choices", []):
                link(rule.get("Next"), "choice", describe_rule(rule))
            link(state.get("Default"), "default", "otherwise")
        else:
            link(state.get("Next"), "next")
        for catcher in state.get("Catch", []):
            link(catcher.get("Next"), "catch", ", ".join(catcher.get("ErrorEquals", [])))
        if state.get("End") and kind not in ("Succeed", "Fail"):
            needs_end = True
            flow.edges.append(Edge(ids[name], "End", "next"))
    if needs_end:
        flow.nodes.append(Node("End", "End", "end"))
    return flow


def failure_lane(flow: Flow) -> list[str]:
    """The states every caught error runs into, in flow order: the targets of Catch clauses
    from which every path ends in a Fail state, and every state after them. Empty when no
    error is caught into such a state."""
    outgoing: dict[str, list[str]] = {node.id: [] for node in flow.nodes}
    for edge in flow.edges:
        outgoing[edge.source].append(edge.target)
    doomed = {node.id for node in flow.nodes if node.kind == "Fail"}
    changed = True
    while changed:
        changed = False
        for node_id, targets in outgoing.items():
            if node_id not in doomed and targets and all(t in doomed for t in targets):
                doomed.add(node_id)
                changed = True
    lane: set[str] = set()
    stack = [e.target for e in flow.edges if e.kind == "catch" and e.target in doomed]
    while stack:
        node_id = stack.pop()
        if node_id not in lane:
            lane.add(node_id)
            stack.extend(outgoing[node_id])
    return [node.id for node in flow.nodes if node.id in lane]


LANE_ENTRY = "FailureLane"


def split_flow(flow: Flow, lane: list[str]) -> tuple[Flow, Flow, dict[str, str]]:
    """The main flow without the failure lane; the lane as a flow of its own, entered from
    one `failure` node; and, per state that continues in the lane, what its stub stands for."""
    inside = set(lane)
    main = Flow(nodes=[node for node in flow.nodes if node.id not in inside])
    names = {node.id: node.label for node in flow.nodes}
    stubs: dict[str, list[str]] = {}
    entered: list[str] = []
    for edge in flow.edges:
        if edge.source in inside:
            continue
        if edge.target not in inside:
            main.edges.append(edge)
            continue
        how = edge.label or ("next" if edge.kind == "next" else edge.kind)
        stubs.setdefault(edge.source, []).append(f"{how} → {names[edge.target]}")
        if edge.target not in entered:
            entered.append(edge.target)
    side = Flow()
    if lane:
        side.nodes = [Node(LANE_ENTRY, "failure", "lane")]
        side.nodes += [node for node in flow.nodes if node.id in inside]
        side.edges = [Edge(LANE_ENTRY, target, "catch") for target in entered]
        side.edges += [edge for edge in flow.edges if edge.source in inside]
    tips = {
        source: f"{names[source]} continues in the failure lane: " + "; ".join(items)
        for source, items in stubs.items()
    }
    return main, side, tips


# ---------------------------------------------------------------------------------------------
# Mermaid

_MERMAID_SHAPES = {
    "start": ("((", "))"),
    "end": ("((", "))"),
    "Choice": ("{", "}"),
    "Succeed": ("([", "])"),
    "Fail": ("([", "])"),
    "Pass": ("[/", "/]"),
    "Wait": ("[[", "]]"),
}
_MERMAID_CLASSES = {
    "Task": "task",
    "Choice": "choice",
    "Succeed": "succeed",
    "Fail": "fail",
    "start": "terminal",
    "end": "terminal",
    "Pass": "other",
    "Wait": "other",
    "Map": "task",
    "Parallel": "task",
}


def _mermaid_text(text: str) -> str:
    """Label text as Mermaid entity codes where its syntax would trip (`#` first)."""
    for char, code in (
        ("#", "#35;"),
        ('"', "#quot;"),
        ("|", "#124;"),
        ("<", "#lt;"),
        (">", "#gt;"),
    ):
        text = text.replace(char, code)
    return text


def to_mermaid(flow: Flow) -> str:
    """The flow as Mermaid text; the failure lane's states in a subgraph of their own."""
    lines = ["flowchart TD"]
    lane = set(failure_lane(flow))

    def declare(node: Node, indent: str) -> str:
        left, right = _MERMAID_SHAPES.get(node.kind, ("[", "]"))
        label = _mermaid_text(node.label)
        if node.detail:
            label += "<br/>" + _mermaid_text(node.detail)
        return f'{indent}{node.id}{left}"{label}"{right}'

    lines += [declare(node, "    ") for node in flow.nodes if node.id not in lane]
    if lane:
        lines.append(f'    subgraph {LANE_ENTRY}["failure lane"]')
        lines += [declare(node, "        ") for node in flow.nodes if node.id in lane]
        lines.append("    end")
    for edge in flow.edges:
        arrow = "-.->" if edge.kind == "catch" else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    lines += [
        "    classDef task fill:#e8f1fb,stroke:#3b78c4,color:#12263f",
        "    classDef choice fill:#fff4d6,stroke:#c99a06,color:#3d2e00",
        "    classDef succeed fill:#e3f5e8,stroke:#2f9e44,color:#123d1c",
        "    classDef fail fill:#fde7e7,stroke:#c92a2a,color:#4a0f0f",
        "    classDef other fill:#f1f3f5,stroke:#868e96,color:#212529",
        "    classDef terminal fill:#343a40,stroke:#343a40,color:#ffffff",
    ]
    by_class: dict[str, list[str]] = {}
    for node in flow.nodes:
        by_class.setdefault(_MERMAID_CLASSES.get(node.kind, "other"), []).append(node.id)
    for name, members in by_class.items():
        lines.append(f"    class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Layout

_ROW_GAP = 46.0
_NODE_GAP = 36.0
_DUMMY_GAP = 14.0
_MARGIN = 24.0
_EDGE_WEIGHT = {"next": 3.0, "default": 2.0, "choice": 2.0, "catch": 0.6}
_SHOWN_LABEL_LIMIT = 26
_STUB_WIDTH = 76.0  # a `failure` stub: a short arrow and its pill
_LANE_GAP = 40.0


@dataclass
class _Box:
    id: str
    width: float
    height: float
    layer: int = 0
    x: float = 0.0  # centre
    y: float = 0.0  # centre
    dummy: bool = False
    stub: str = ""  # the tooltip of its `failure` stub, if it has one (drawn right of the state)

    @property
    def cx(self) -> float:
        """The centre of the state itself (the box less its stub)."""
        return self.x - (_STUB_WIDTH / 2 if self.stub else 0.0)

    @property
    def half(self) -> float:
        """Half the width of the state itself."""
        return (self.width - (_STUB_WIDTH if self.stub else 0.0)) / 2


@dataclass
class Layout:
    boxes: dict[str, _Box]
    routes: list[tuple[Edge, list[tuple[float, float]], bool]]  # edge, bend points, reversed
    width: float
    height: float


def _node_size(node: Node) -> tuple[float, float]:
    if node.kind in ("start", "end"):
        return 26.0, 26.0
    if node.kind == "lane":
        return _STUB_WIDTH - 20, 20.0
    width = max(text_width(node.label, 13, bold=True), text_width(node.detail, 11)) + 28
    if node.kind == "Choice":
        width += 28
    return max(width, 96.0), (44.0 if node.detail else 34.0)


def _back_edges(flow: Flow) -> set[int]:
    """Edges that close a loop, found by a depth-first walk that prefers the main path."""
    order = {"next": 0, "default": 1, "choice": 1, "catch": 2}
    outgoing: dict[str, list[int]] = {node.id: [] for node in flow.nodes}
    for index, edge in enumerate(flow.edges):
        outgoing[edge.source].append(index)
    for indexes in outgoing.values():
        indexes.sort(key=lambda i: order.get(flow.edges[i].kind, 3))
    back: set[int] = set()
    state: dict[str, int] = {}  # 1 = on the walk, 2 = done

    def visit(node_id: str) -> None:
        state[node_id] = 1
        for index in outgoing[node_id]:
            target = flow.edges[index].target
            if state.get(target) == 1:
                back.add(index)
            elif target not in state:
                visit(target)
        state[node_id] = 2

    for node in flow.nodes:
        if node.id not in state:
            visit(node.id)
    return back


def layout(
    flow: Flow, stubs: dict[str, str] | None = None, room: dict[str, float] | None = None
) -> Layout:
    """Place `flow`; the states named in `stubs` get room for a `failure` stub on the right,
    the rows below those named in `room` that much more height (for their edges' labels)."""
    boxes: dict[str, _Box] = {}
    for node in flow.nodes:
        width, height = _node_size(node)
        stub = (stubs or {}).get(node.id, "")
        boxes[node.id] = _Box(node.id, width + (_STUB_WIDTH if stub else 0.0), height, stub=stub)
    back = _back_edges(flow)
    dag = [
        (edge.target, edge.source) if index in back else (edge.source, edge.target)
        for index, edge in enumerate(flow.edges)
        if edge.source != edge.target
    ]

    # Layers: longest path from the sources, so every edge points down.
    incoming: dict[str, list[str]] = {box_id: [] for box_id in boxes}
    for source, target in dag:
        incoming[target].append(source)
    done: dict[str, int] = {}

    def depth(box_id: str) -> int:
        if box_id not in done:
            done[box_id] = 0  # guards against a cycle the walk missed
            done[box_id] = max((depth(parent) + 1 for parent in incoming[box_id]), default=0)
        return done[box_id]

    for box_id in boxes:
        boxes[box_id].layer = depth(box_id)

    # Long edges get one dummy box per layer they cross; the main path pulls hardest.
    spine = _spine(flow, back)
    straight: set[str] = set()  # the main path's boxes: the others make room for them
    segments: list[tuple[str, str, float]] = []
    chains: list[list[str]] = []
    for index, edge in enumerate(flow.edges):
        top, bottom = (edge.target, edge.source) if index in back else (edge.source, edge.target)
        chain = [top]
        for layer in range(boxes[top].layer + 1, boxes[bottom].layer):
            dummy = _Box(f"~{index}~{layer}", 8.0, 0.0, layer=layer, dummy=True)
            boxes[dummy.id] = dummy
            chain.append(dummy.id)
        chain.append(bottom)
        chains.append(chain)
        weight = _EDGE_WEIGHT.get(edge.kind, 1.0) * (8.0 if index in spine else 1.0)
        if index in spine:
            straight.update(chain)
        segments.extend((a, b, weight) for a, b in zip(chain, chain[1:]) if a != b)

    layers: list[list[str]] = [[] for _ in range(max(b.layer for b in boxes.values()) + 1)]
    for box_id in _discovery_order(boxes, segments):
        layers[boxes[box_id].layer].append(box_id)
    _reduce_crossings(layers, segments)
    # Loops run back up on the right of the main path, never across it.
    looping = {box_id for index in back for box_id in chains[index][1:-1]}
    for row in layers:
        spine_at = next((i for i, box_id in enumerate(row) if box_id in straight), None)
        if spine_at is not None:
            moved = [box_id for box_id in row[:spine_at] if box_id in looping]
            kept = [box_id for box_id in row if box_id not in moved]
            at = kept.index(row[spine_at]) + 1
            row[:] = kept[:at] + moved + kept[at:]
    branching = {edge.source for edge in flow.edges if edge.label}
    _place(layers, boxes, segments, branching, straight, room or {})

    routes: list[tuple[Edge, list[tuple[float, float]], bool]] = []
    for index, (edge, chain) in enumerate(zip(flow.edges, chains)):
        points = [(boxes[box_id].x, boxes[box_id].y) for box_id in chain]
        routes.append((edge, points, index in back))
    width = max(b.x + b.width / 2 for b in boxes.values()) + _MARGIN + 40
    height = max(b.y + b.height / 2 for b in boxes.values()) + _MARGIN
    return Layout(boxes=boxes, routes=routes, width=width, height=height)


def _spine(flow: Flow, back: set[int]) -> set[int]:
    """The edges of the main path: the longest way from Start to a successful end (End or a
    Succeed state) that follows no Catch and no loop."""
    kinds = {node.id: node.kind for node in flow.nodes}
    outgoing: dict[str, list[int]] = {node.id: [] for node in flow.nodes}
    for index, edge in enumerate(flow.edges):
        if index not in back and edge.kind != "catch" and edge.source != edge.target:
            outgoing[edge.source].append(index)
    longest: dict[str, tuple[float, int | None]] = {}

    def walk(node_id: str) -> tuple[float, int | None]:
        if node_id not in longest:
            longest[node_id] = (float("-inf"), None)  # guards against a cycle
            if kinds[node_id] in ("end", "Succeed"):
                longest[node_id] = (0.0, None)
            else:
                options = [(walk(flow.edges[i].target)[0] + 1, i) for i in outgoing[node_id]]
                longest[node_id] = max(options, default=(float("-inf"), None))
        return longest[node_id]

    found: set[int] = set()
    node_id = "Start"
    while node_id in outgoing and walk(node_id)[1] is not None:
        chosen = walk(node_id)[1]
        assert chosen is not None
        found.add(chosen)
        node_id = flow.edges[chosen].target
    return found


def _discovery_order(boxes: dict[str, _Box], segments: list[tuple[str, str, float]]) -> list[str]:
    children: dict[str, list[str]] = {box_id: [] for box_id in boxes}
    for source, target, _ in segments:
        children[source].append(target)
    seen: list[str] = []
    marked: set[str] = set()
    queue = [box_id for box_id, box in boxes.items() if box.layer == 0]
    while queue:
        box_id = queue.pop(0)
        if box_id in marked:
            continue
        marked.add(box_id)
        seen.append(box_id)
        queue.extend(children[box_id])
    return seen + [box_id for box_id in boxes if box_id not in marked]


def _crossings(upper: list[str], lower: list[str], segments: list[tuple[str, str, float]]) -> int:
    up = {box_id: i for i, box_id in enumerate(upper)}
    low = {box_id: i for i, box_id in enumerate(lower)}
    pairs = [(up[a], low[b]) for a, b, _ in segments if a in up and b in low]
    return sum(
        1
        for i, (a1, b1) in enumerate(pairs)
        for a2, b2 in pairs[i + 1 :]
        if (a1 - a2) * (b1 - b2) < 0
    )


def _reduce_crossings(layers: list[list[str]], segments: list[tuple[str, str, float]]) -> None:
    def total() -> int:
        return sum(_crossings(a, b, segments) for a, b in zip(layers, layers[1:]))

    best, best_layers = total(), [list(layer) for layer in layers]
    for sweep in range(8):
        downward = sweep % 2 == 0
        indexes = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for index in indexes:
            fixed = layers[index - 1] if downward else layers[index + 1]
            position = {box_id: i for i, box_id in enumerate(fixed)}
            neighbours: dict[str, list[int]] = {box_id: [] for box_id in layers[index]}
            for a, b, _ in segments:
                mine, other = (b, a) if downward else (a, b)
                if mine in neighbours and other in position:
                    neighbours[mine].append(position[other])
            current = {box_id: i for i, box_id in enumerate(layers[index])}
            layers[index].sort(
                key=lambda box_id: (
                    sum(neighbours[box_id]) / len(neighbours[box_id])
                    if neighbours[box_id]
                    else current[box_id]
                )
            )
        count = total()
        if count < best:
            best, best_layers = count, [list(layer) for layer in layers]
    layers[:] = best_layers


def _place(
    layers: list[list[str]],
    boxes: dict[str, _Box],
    segments: list[tuple[str, str, float]],
    branching: set[str],
    straight: set[str] = frozenset(),  # type: ignore[assignment]
    room: dict[str, float] | None = None,
) -> None:
    def gap(left: _Box, right: _Box) -> float:
        space = _DUMMY_GAP if (left.dummy or right.dummy) else _NODE_GAP
        return (left.width + right.width) / 2 + space

    y = _MARGIN
    for layer in layers:
        tallest = max((boxes[box_id].height for box_id in layer), default=0.0)
        for box_id in layer:
            boxes[box_id].y = y + tallest / 2
        # Rows below a branching state get more room for the edge labels.
        y += tallest + (_ROW_GAP + 30 if any(b in branching for b in layer) else _ROW_GAP)
        y += max((room or {}).get(box_id, 0.0) for box_id in layer) if layer else 0.0
        x = _MARGIN
        for index, box_id in enumerate(layer):
            box = boxes[box_id]
            x += box.width / 2 if index == 0 else gap(boxes[layer[index - 1]], box)
            box.x = x

    # Each box is pulled by its neighbours above on the way down, by those below on the way
    # up, by all of them in the last rounds: sweeps that settle rather than drift sideways.
    above: dict[str, list[tuple[str, float]]] = {box_id: [] for box_id in boxes}
    below: dict[str, list[tuple[str, float]]] = {box_id: [] for box_id in boxes}
    for a, b, weight in segments:
        # Dummy chains pull harder, so long edges run straight.
        boost = 1.5 if boxes[a].dummy or boxes[b].dummy else 1.0
        upper, lower = (a, b) if boxes[a].layer < boxes[b].layer else (b, a)
        below[upper].append((lower, weight * boost))
        above[lower].append((upper, weight * boost))

    for sweep in range(40):
        downward = sweep % 2 == 0
        for layer in layers if downward else reversed(layers):
            desired = []
            for box_id in layer:
                pulls = above[box_id] if downward else below[box_id]
                if sweep >= 36 or not pulls:
                    pulls = above[box_id] + below[box_id]
                if box_id in straight:  # the main path runs straight down
                    pulls = [(o, w) for o, w in pulls if o in straight] or pulls
                total = sum(weight for _, weight in pulls)
                # States line up by their own centres, not by those of their boxes with stubs.
                desired.append(
                    sum(boxes[other].cx * w for other, w in pulls) / total
                    + (boxes[box_id].x - boxes[box_id].cx)
                    if total
                    else boxes[box_id].x
                )
            fixed = next((i for i, box_id in enumerate(layer) if box_id in straight), None)
            if fixed is not None:  # the main path keeps its place; the others move aside
                for i in range(fixed + 1, len(layer)):
                    desired[i] = max(
                        desired[i], desired[i - 1] + gap(boxes[layer[i - 1]], boxes[layer[i]])
                    )
                for i in range(fixed - 1, -1, -1):
                    desired[i] = min(
                        desired[i], desired[i + 1] - gap(boxes[layer[i]], boxes[layer[i + 1]])
                    )
            left = list(desired)
            for i in range(1, len(layer)):
                left[i] = max(left[i], left[i - 1] + gap(boxes[layer[i - 1]], boxes[layer[i]]))
            right = list(desired)
            for i in range(len(layer) - 2, -1, -1):
                right[i] = min(right[i], right[i + 1] - gap(boxes[layer[i]], boxes[layer[i + 1]]))
            for i, box_id in enumerate(layer):
                boxes[box_id].x = (left[i] + right[i]) / 2

    shift = _MARGIN - min(box.x - box.width / 2 for box in boxes.values())
    for box in boxes.values():
        box.x += shift


# ---------------------------------------------------------------------------------------------
# SVG

_FILL = {
    "Task": ("#e8f1fb", "#3b78c4"),
    "Map": ("#e8f1fb", "#3b78c4"),
    "Parallel": ("#e8f1fb", "#3b78c4"),
    "Choice": ("#fff4d6", "#c99a06"),
    "Succeed": ("#e3f5e8", "#2f9e44"),
    "Fail": ("#fde7e7", "#c92a2a"),
    "Pass": ("#f1f3f5", "#868e96"),
    "Wait": ("#f3f0ff", "#7048e8"),
}
_EDGE_STYLE = {
    "next": ("#495057", ""),
    "choice": ("#8c6d00", ""),
    "default": ("#8c6d00", ""),
    "catch": ("#c92a2a", "6 4"),
}


def _smooth_path(points: list[tuple[float, float]]) -> str:
    """A smooth curve through the points (Catmull-Rom turned into cubic Béziers)."""
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for i in range(len(points) - 1):
        p0 = points[i - 1] if i > 0 else points[i]
        p1, p2 = points[i], points[i + 1]
        p3 = points[i + 2] if i + 2 < len(points) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        parts.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}")
    return " ".join(parts)


def _ports(
    result: Layout, flow: Flow, crowded: list[str] | None = None
) -> list[tuple[Edge, list[tuple[float, float]], tuple[float, float] | None]]:
    """Each edge's final points (ports spread along the box sides) and its label anchor."""
    boxes = result.boxes
    spread: dict[tuple[str, str], list[int]] = {}
    drawn: list[list[tuple[float, float]]] = []
    for index, (edge, points, reversed_) in enumerate(result.routes):
        if edge.source == edge.target:
            box = boxes[edge.source]
            right, y = box.cx + box.half, box.y
            drawn.append([(right, y - 8), (right + 34, y), (right, y + 8)])
            continue
        if reversed_:
            drawn.append(list(points))
            continue
        drawn.append(list(points))
        spread.setdefault((edge.source, "out"), []).append(index)
        spread.setdefault((edge.target, "in"), []).append(index)
    for (box_id, side), indexes in spread.items():
        box = boxes[box_id]
        neighbour = 1 if side == "out" else -2
        indexes.sort(key=lambda i: drawn[i][neighbour][0])
        usable = box.half * 2 * (0.5 if box.id in ("Start", "End") else 0.7)
        for rank, i in enumerate(indexes):
            x = box.cx - usable / 2 + usable * (rank + 1) / (len(indexes) + 1)
            if len(indexes) == 1:
                x = box.cx
            y = box.y + box.height / 2 if side == "out" else box.y - box.height / 2 - 2
            drawn[i][0 if side == "out" else -1] = (x, y)
    for index, (edge, _points, reversed_) in enumerate(result.routes):
        if not reversed_ or edge.source == edge.target:
            continue
        # A loop runs back up beside the boxes, from the side its bend points are on.
        points = drawn[index]  # top (the target) ... bottom (the source)
        top, bottom = boxes[edge.target], boxes[edge.source]
        middle = points[1:-1]
        if not middle:
            reach = max(top.x + top.width / 2, bottom.x + bottom.width / 2) + 32
            middle = [(reach, (top.y + bottom.y) / 2)]
        # Leave and enter on the side facing the nearest bend point.
        start_side = 1.0 if middle[-1][0] >= bottom.x else -1.0
        end_side = 1.0 if middle[0][0] >= top.x else -1.0
        start = (bottom.cx + start_side * bottom.half, bottom.y)
        end = (top.cx + end_side * (top.half + 2), top.y)
        # A state's right side may hold its failure stub: the loop leaves by the top and
        # comes in from below instead.
        if start_side > 0 and bottom.stub:
            start = (bottom.cx + bottom.half * 0.75, bottom.y - bottom.height / 2)
        if end_side > 0 and top.stub:
            end = (top.cx + top.half * 0.75, top.y + top.height / 2 + 2)
        drawn[index] = [start, *reversed(middle), end]
    return _place_labels(result, [edge for edge, _p, _r in result.routes], drawn, crowded)


def _curve(points: list[tuple[float, float]], steps: int = 10) -> list[tuple[float, float]]:
    """The curve `_smooth_path` draws through `points`, as a polyline."""
    if len(points) < 2:
        return list(points)
    out = [points[0]]
    for i in range(len(points) - 1):
        p0 = points[i - 1] if i > 0 else points[i]
        p1, p2 = points[i], points[i + 1]
        p3 = points[i + 2] if i + 2 < len(points) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        for k in range(1, steps + 1):
            t = k / steps
            u = 1 - t
            out.append(
                (
                    u**3 * p1[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t**3 * p2[0],
                    u**3 * p1[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t**3 * p2[1],
                )
            )
    return out


Rect = tuple[float, float, float, float]  # left, top, right, bottom


def _crosses(a: tuple[float, float], b: tuple[float, float], rect: Rect) -> bool:
    """Whether the segment a-b passes through `rect` (Liang-Barsky clipping)."""
    low, high = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in (
        (-dx, a[0] - rect[0]),
        (dx, rect[2] - a[0]),
        (-dy, a[1] - rect[1]),
        (dy, rect[3] - a[1]),
    ):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def shown_label(edge: Edge) -> str:
    """An edge's label as the picture shows it (the whole of it in its tooltip)."""
    return _clip(edge.label, _SHOWN_LABEL_LIMIT)


def label_rect(anchor: tuple[float, float], label: str) -> Rect:
    half = (text_width(label, 11) + 8) / 2
    return (anchor[0] - half, anchor[1] - 8, anchor[0] + half, anchor[1] + 8)


def _place_labels(
    result: Layout,
    edges: list[Edge],
    drawn: list[list[tuple[float, float]]],
    crowded: list[str] | None = None,
) -> list[tuple[Edge, list[tuple[float, float]], tuple[float, float] | None]]:
    """Put each edge label beside its edge, where it covers no state, no other label and no
    edge; failing that, on its edge where it covers no state or label (and the edge's source
    goes into `crowded`)."""
    taken: list[Rect] = [
        (
            box.x - box.width / 2,
            box.y - box.height / 2,
            box.x + box.width / 2,
            box.y + box.height / 2,
        )
        for box in result.boxes.values()
        if not box.dummy
    ]
    curves = [_curve(points) for points in drawn]
    bounds = [
        (min(x for x, _ in c), min(y for _, y in c), max(x for x, _ in c), max(y for _, y in c))
        for c in curves
    ]

    def overlaps(a: Rect, b: Rect) -> bool:
        return not (a[2] <= b[0] or a[0] >= b[2] or a[3] <= b[1] or a[1] >= b[3])

    def free(rect: Rect, lines: bool) -> bool:
        if any(overlaps(rect, other) for other in taken):
            return False
        return not lines or not any(
            overlaps(rect, bound) and any(_crosses(a, b, rect) for a, b in zip(curve, curve[1:]))
            for curve, bound in zip(curves, bounds)
        )

    placed: list[tuple[Edge, list[tuple[float, float]], tuple[float, float] | None]] = []
    for edge, points, curve in zip(edges, drawn, curves):
        if not edge.label:
            placed.append((edge, points, None))
            continue
        label = shown_label(edge)
        half = (text_width(label, 11) + 8) / 2
        steps = list(zip(curve, curve[1:]))
        beside: list[tuple[float, float]] = []
        along: list[tuple[float, float]] = []
        places = (0.45, 0.3, 0.6, 0.2, 0.75, 0.85, 0.12, 0.92, 0.38, 0.52, 0.68, 0.25, 0.05)
        for t in places:
            a, b = steps[min(len(steps) - 1, int(t * len(steps)))]
            length = max(1e-6, ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5)
            nx, ny = -(b[1] - a[1]) / length, (b[0] - a[0]) / length  # the normal
            reach = abs(nx) * (half + 4) + abs(ny) * (8 + 4)
            along.append(a)
            beside += [
                (a[0] + nx * reach, a[1] + ny * reach),
                (a[0] - nx * reach, a[1] - ny * reach),
            ]
        for t in places:  # then further sideways, a little up or down
            a = steps[min(len(steps) - 1, int(t * len(steps)))][0]
            for dx in (half + 6, half + 24, half + 48):
                for dy in (0.0, -12.0, 12.0):
                    beside += [(a[0] + dx, a[1] + dy), (a[0] - dx, a[1] + dy)]
        anchor = next((c for c in beside if free(label_rect(c, label), lines=True)), None)
        if anchor is None:
            if crowded is not None:
                crowded.append(edge.source)
            anchor = next((c for c in along if free(label_rect(c, label), lines=False)), along[0])
        taken.append(label_rect(anchor, label))
        placed.append((edge, points, anchor))
    return placed


Routes = list[tuple[Edge, list[tuple[float, float]], tuple[float, float] | None]]


def arrange(flow: Flow, stubs: dict[str, str] | None = None) -> tuple[Layout, Routes]:
    """Lay out `flow` and its edges; where a label finds no place clear of the edges, give the
    row below its state more room and lay out again (a few times at most)."""
    room: dict[str, float] = {}
    for _ in range(6):
        result = layout(flow, stubs, room)
        crowded: list[str] = []
        routes = _ports(result, flow, crowded)
        if not crowded:
            break
        for source in crowded:
            room[source] = room.get(source, 0.0) + 24.0
    return result, routes


def to_svg(flow: Flow, title: str = "") -> str:
    main_flow, lane_flow, stubs = split_flow(flow, failure_lane(flow))
    main, main_routes = arrange(main_flow, stubs)
    lane, lane_routes = arrange(lane_flow) if lane_flow.nodes else (None, [])
    nodes = {node.id: node for node in [*main_flow.nodes, *lane_flow.nodes]}
    legend_height = 34.0
    title_height = 30.0 if title else 0.0
    lane_x = main.width + _LANE_GAP - _MARGIN  # the lane's own layout starts at _MARGIN
    lane_top = 22.0  # room for the lane's caption
    width = main.width + (_LANE_GAP + lane.width - _MARGIN + 12 if lane else 0.0)
    inner = max(main.height, lane.height + lane_top + 12 if lane else 0.0)
    height = inner + legend_height + title_height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="{esc(FONT)}">',
        "<defs>",
    ]
    for kind, (color, _dash) in _EDGE_STYLE.items():
        out.append(
            f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    if title:
        out.append(
            f'<text x="{_MARGIN}" y="22" font-size="15" font-weight="600" fill="#212529">'
            f"{esc(title)}</text>"
        )
    out.append(f'<g transform="translate(0,{title_height:.0f})">')
    out += _svg_layout(main, main_routes, nodes)
    if lane:
        out.append(
            f'<rect class="failure-lane" x="{lane_x + _MARGIN - 14:.1f}" y="6" '
            f'width="{lane.width - _MARGIN + 14:.1f}" height="{lane.height + lane_top:.1f}" '
            f'rx="10" fill="#fff5f5" stroke="#ffc9c9" stroke-dasharray="4 3"/>'
            f'<text x="{lane_x + _MARGIN - 4:.1f}" y="24" font-size="12" font-weight="600" '
            f'fill="#c92a2a">failure lane</text>'
        )
        out.append(f'<g transform="translate({lane_x:.1f},{lane_top:.1f})">')
        out += _svg_layout(lane, lane_routes, nodes)
        out.append("</g>")
    out.append("</g>")
    out.append(_svg_legend(height - legend_height + 8, failure=lane is not None))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _svg_layout(result: Layout, routes: Routes, nodes: dict[str, Node]) -> list[str]:
    """The edges, then the states, then the edge labels of one laid-out flow."""
    out: list[str] = []
    for edge, points, _anchor in routes:
        color, dash = _EDGE_STYLE.get(edge.kind, _EDGE_STYLE["next"])
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="{_smooth_path(points)}" fill="none" stroke="{color}" stroke-width="1.4"'
            f'{dashed} marker-end="url(#arrow-{edge.kind})"/>'
        )
    for box in result.boxes.values():
        if not box.dummy:
            out.append(_svg_node(nodes[box.id], box))
    for edge, _points, anchor in routes:
        if anchor is None:
            continue
        color = _EDGE_STYLE.get(edge.kind, _EDGE_STYLE["next"])[0]
        label = shown_label(edge)
        left, top, right, _bottom = label_rect(anchor, label)
        out.append(
            f'<g class="edge-label"><title>{esc(edge.label)}</title>'
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
            f'height="16" rx="3" fill="#ffffff" fill-opacity="0.92"/>'
            f'<text x="{anchor[0]:.1f}" y="{anchor[1] + 4:.1f}" font-size="11" fill="{color}" '
            f'text-anchor="middle">{esc(label)}</text></g>'
        )
    return out


def _svg_pill(x: float, y: float, tip: str) -> str:
    """The red `failure` pill of a stub and of the lane's entry, its left end at x."""
    width = _STUB_WIDTH - 20
    return (
        f'<g class="failure-stub"><title>{esc(tip)}</title>'
        f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="{width:.1f}" height="18" rx="9" '
        f'fill="#fde7e7" stroke="#c92a2a" stroke-width="1.2"/>'
        f'<text x="{x + width / 2:.1f}" y="{y + 4:.1f}" font-size="11" fill="#c92a2a" '
        f'text-anchor="middle">failure</text></g>'
    )


def _svg_node(node: Node, box: _Box) -> str:
    x, y, w, h = box.cx, box.y, box.half * 2, box.height
    if node.kind == "lane":
        return _svg_pill(x - w / 2, y, "every state marked failure continues here")
    stub = ""
    if box.stub:
        start = x + w / 2
        stub = (
            f'<line x1="{start:.1f}" y1="{y:.1f}" x2="{start + 17:.1f}" y2="{y:.1f}" '
            f'stroke="#c92a2a" stroke-width="1.4" stroke-dasharray="3 2" '
            f'marker-end="url(#arrow-catch)"/>' + _svg_pill(start + 19, y, box.stub)
        )
    if node.kind in ("start", "end"):
        return (
            f'<g><circle cx="{x:.1f}" cy="{y:.1f}" r="{w / 2:.1f}" fill="#343a40"/>'
            f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="9" fill="#ffffff" '
            f'text-anchor="middle">{esc(node.label.lower())}</text></g>{stub}'
        )
    fill, stroke = _FILL.get(node.kind, _FILL["Pass"])
    left, top = x - w / 2, y - h / 2
    if node.kind == "Choice":
        shape = (
            f'<polygon points="{left:.1f},{y:.1f} {left + 14:.1f},{top:.1f} '
            f"{left + w - 14:.1f},{top:.1f} {left + w:.1f},{y:.1f} "
            f'{left + w - 14:.1f},{top + h:.1f} {left + 14:.1f},{top + h:.1f}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>'
        )
    else:
        radius = h / 2 if node.kind in ("Succeed", "Fail") else 6
        shape = (
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{radius:.1f}" fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>'
        )
    name_y = y - 3 if node.detail else y + 4.5
    parts = [
        f"<g><title>{esc(node.kind)}: {esc(node.label)}</title>",
        shape,
        f'<text x="{x:.1f}" y="{name_y:.1f}" font-size="13" font-weight="600" '
        f'fill="#212529" text-anchor="middle">{esc(node.label)}</text>',
    ]
    if node.detail:
        parts.append(
            f'<text x="{x:.1f}" y="{y + 12:.1f}" font-size="11" fill="#495057" '
            f'text-anchor="middle">{esc(node.detail)}</text>'
        )
    parts.append("</g>")
    return "".join(parts) + stub


def _svg_legend(y: float, failure: bool = False) -> str:
    items = []
    x = _MARGIN
    for kind, label in (("next", "next"), ("choice", "choice"), ("catch", "error caught")):
        color, dash = _EDGE_STYLE[kind]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<line x1="{x}" y1="{y + 6}" x2="{x + 28}" y2="{y + 6}" stroke="{color}" '
            f'stroke-width="1.4"{dashed} marker-end="url(#arrow-{kind})"/>'
            f'<text x="{x + 36}" y="{y + 10}" font-size="11" fill="#495057">{label}</text>'
        )
        x += 44 + text_width(label, 11) + 18
    if failure:
        label = "an error or outcome that continues in the failure lane"
        items.append(
            _svg_pill(x, y + 6, "continues in the failure lane")
            + f'<text x="{x + _STUB_WIDTH - 12}" y="{y + 10}" font-size="11" '
            f'fill="#495057">{label}</text>'
        )
    return "<g>" + "".join(items) + "</g>"
