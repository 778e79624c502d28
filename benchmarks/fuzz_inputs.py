"""Hostile input against the validator and the tuner's first step: crashes, paths, escapes, time.

Generates malformed documents for each schema (mutations of the example files in
examples/params/ and examples/seed/, and random JSON: deep nesting, huge numbers, nulls, control
characters, wrong types, foreign buckets), runs each through the validator and through
`prepare.prepare_tuning_run` (with an in-memory S3 for `manifestS3Uri`), and prints per schema:
documents, crashes (goal 0), problems without a JSON path (goal 0), messages with control
characters (goal 0), the longest message, and the mean and p99 time per document.

Usage: python benchmarks/fuzz_inputs.py [--documents 10000] [--seed 1]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lambda_src"))

from botocore.exceptions import ClientError  # noqa: E402

from tuning_workflow import prepare, validation  # noqa: E402

EXAMPLES = REPO / "examples"
BUCKET = "sagemaker-tuner-demo"
MANIFEST_URI = f"s3://{BUCKET}/manifests/run.json"
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:model-tuner:fuzz"
ROLE_ARN = "arn:aws:iam::123456789012:role/sagemaker-execution"
# What a person must never see unescaped in a message: controls, format characters (bidi
# overrides, zero-width), line and paragraph separators.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
CONTROL_PIECES = (
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\x1b[2J",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\U000e0041",
    "Run SUCCEEDED - no action needed",
    "é",
    "'",
    "\\",
    "]",
)


# ---------------------------------------------------------------------------------------------
# Documents


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def seeds() -> dict[str, list[Any]]:
    params, seed = EXAMPLES / "params", EXAMPLES / "seed"
    return {
        "ml-parameters": [
            read_json(params / "ml-parameters.json"),
            read_json(seed / "template-ml-parameters.json"),
        ],
        "hyperparameters": [
            read_json(params / "hyperparameters.json"),
            read_json(seed / "hyperparameters.json"),
        ],
        "manifest": [read_json(params / "manifest.json"), read_json(seed / "manifest.json")],
        "deployer-input": [{"modelName": "survival-model-0123456789ab", "runId": "0123456789ab"}],
    }


def deep(rng: random.Random) -> Any:
    value: Any = rng.choice([1, "x", None, {}, []])
    for _ in range(rng.choice([33, 64, 200, 900, 5000])):
        value = [value] if rng.random() < 0.5 else {"k": value}
    return value


def control_text(rng: random.Random) -> str:
    return "".join(rng.choice(CONTROL_PIECES) for _ in range(rng.randint(1, 6)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, rng.randint(-(10**6), 10**6)])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, 5e-324, rng.uniform(-1e6, 1e6)])
    if kind == 4:
        return rng.choice(["", "x", "10", "True", control_text(rng)])
    if kind in (5, 6):
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {control_text(rng) if rng.random() < 0.3 else f"k{i}": random_json(rng, depth + 1)
            for i in range(rng.randint(0, 3))}  # fmt: skip


def hostile(rng: random.Random) -> Any:
    """One value that a schema or a parser may choke on."""
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice([None, True, False, 0, -1, "", [], {}])
    if kind == 1:
        return deep(rng)
    if kind == 2:
        return rng.choice([10**18, 10**19 - 1, 10**20, 10**21, 10**308, 10**400, 10**4000])
    if kind == 3:
        digits = rng.choice([18, 19, 20, 21, 400, 4301, 5000])
        return rng.choice(["", "+", "-"]) + "9" * digits
    if kind == 4:
        return "0" * rng.choice([20, 5000]) + "1"
    if kind == 5:
        return rng.choice([float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 5e-324])
    if kind == 6:
        return rng.choice(
            ["1e999", "-1e999", "1e308", "9" * 400 + ".5", "NaN", "Infinity", "1e-999"]
        )
    if kind == 7:
        return control_text(rng)
    if kind == 8:
        return rng.choice(["a", "\n", "\u2028"]) * rng.choice([257, 1025, 10_001, 100_000])
    if kind == 9:
        return rng.choice(
            [
                "s3://other-bucket/data/",
                "https://other-bucket.s3.us-east-1.amazonaws.com/data/",
                "https://s3.us-west-2.amazonaws.com/other-bucket/data/",
                f"https://{BUCKET}.s3.amazonaws.com/data/",
                f"s3://{BUCKET}\n/data/",
                "https://example.com/data/",
                "s3://",
            ]
        )
    if kind == 10:
        return random_json(rng)
    return rng.choice([[1, 2, 3], {"a": 1}, "string", 3.5, -7])


def paths_of(doc: Any, depth: int = 8, width: int = 50) -> list[tuple[Any, ...]]:
    """The paths in `doc` to mutate: the seeds' own, not deep inside a hostile value."""
    found: list[tuple[Any, ...]] = [()]
    stack: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        if len(path) >= depth:
            continue
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for _, (key, child) in zip(range(width), children):
            found.append((*path, key))
            stack.append(((*path, key), child))
    return found


def node_at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def mutate(doc: Any, rng: random.Random) -> Any:
    """A copy of `doc` with one to three hostile changes, or now and then random JSON."""
    if rng.random() < 0.05:
        return rng.choice([hostile(rng), random_json(rng)])
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        paths = paths_of(doc)
        path = rng.choice(paths)
        if not path:
            if isinstance(doc, dict):
                doc[control_text(rng) if rng.random() < 0.5 else "extra"] = hostile(rng)
            continue
        parent = node_at(doc, path[:-1])
        key = path[-1]
        action = rng.randrange(4)
        if action == 0 and isinstance(parent, dict):
            del parent[key]
        elif action == 1 and isinstance(parent, dict):
            parent[control_text(rng) if rng.random() < 0.7 else "x" * 300] = hostile(rng)
        else:
            parent[key] = hostile(rng)
    return doc


# ---------------------------------------------------------------------------------------------
# The code under test


class FakeBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, amount: int = -1) -> bytes:
        return self.data if amount < 0 else self.data[:amount]


class FakeS3:
    """get_object over a dict of (bucket, key) -> bytes."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                "GetObject",
            )
        return {"Body": FakeBody(self.objects[(Bucket, Key)])}


def s3_body(document: Any, rng: random.Random) -> bytes:
    """The manifest as S3 would hold it; raw hostile text when it cannot be written as JSON."""
    if rng.random() < 0.2:
        depth = rng.choice([100, 900, 5000, 100_000])
        return rng.choice(
            [
                ("[" * depth + "]" * depth).encode(),
                ('{"channels": ' + "[" * depth + "]" * depth + "}").encode(),
                ('{"channels": [{"channelName": ' + "9" * 5000 + "}]}").encode(),
                b'{"channels": [{"channelName": 1e999}]}',
                b'{"channels": NaN}',
                b'{"channels": [], "x": -Infinity}',
                b"\xff\xfe",
                b'{"channels": [,]}',
                b"null",
            ]
        )
    try:
        return json.dumps(document).encode()
    except (ValueError, RecursionError):
        return b'{"channels": ' + b"[" * 3000 + b"]" * 3000 + b"}"


def base_event(documents: Mapping[str, Any], buckets: list[str] | None) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "sagemakerRoleArn": ROLE_ARN,
        "tags": {"environment": "fuzz"},
        "volumeKmsKeyId": None,
        "outputKmsKeyId": None,
    }
    if buckets is not None:
        deployment["dataBuckets"] = buckets
    return {
        "input": documents["manifest"],
        "executionArn": EXECUTION_ARN,
        "mlParameters": documents["ml-parameters"],
        "hyperparameters": documents["hyperparameters"],
        "deployment": deployment,
    }


def execution_input(manifest: Any, rng: random.Random, s3: FakeS3) -> Any:
    """The manifest in one of the accepted input forms, sometimes wrapped by the parent."""
    form = rng.randrange(4)
    if form == 0:
        request: Any = manifest
    elif form == 1:
        request = {"manifest": manifest}
    else:
        s3.objects[(BUCKET, "manifests/run.json")] = s3_body(manifest, rng)
        request = {"manifestS3Uri": MANIFEST_URI}
    if form == 3:
        return {"request": request, "runExecutionArn": EXECUTION_ARN + "-parent"}
    return request


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Row:
    schema: str
    stage: str
    documents: int = 0
    crashes: int = 0
    no_path: int = 0
    control: int = 0
    longest: int = 0
    times: list[float] = field(default_factory=list)
    crash_kinds: Counter[str] = field(default_factory=Counter)
    first_crash: dict[str, str] = field(default_factory=dict)

    def record(self, run: Callable[[], list[tuple[str, str]]]) -> None:
        self.documents += 1
        started = time.perf_counter()
        try:
            messages = run()
        except Exception as error:  # every exception is what is being counted
            self.times.append(time.perf_counter() - started)
            self.crashes += 1
            kind = type(error).__name__
            self.crash_kinds[kind] += 1
            self.first_crash.setdefault(kind, traceback.format_exc(limit=-3).strip()[-600:])
            return
        self.times.append(time.perf_counter() - started)
        for path, message in messages:
            if not isinstance(path, str) or not path.startswith("$"):
                self.no_path += 1
            for text in (path, message):
                if isinstance(text, str):
                    self.longest = max(self.longest, len(text))
                    if any(unicodedata.category(c) in UNSAFE_CATEGORIES for c in text):
                        self.control += 1
                        break


def from_problems(problems: list[Any]) -> list[tuple[str, str]]:
    return [(problem.path, problem.message) for problem in problems]


def from_result(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    if result.get("valid"):
        return []
    pairs = [
        (error["path"], f"{error['document']} {error['message']}") for error in result["errors"]
    ]
    return [*pairs, ("$", result["message"])]


def run(count: int, seed: int) -> list[Row]:
    rng = random.Random(seed)
    examples = seeds()
    validators = {
        "ml-parameters": validation.validate_ml_parameters,
        "hyperparameters": validation.validate_hyperparameters,
        "manifest": validation.validate_manifest,
        "deployer-input": validation.validate_deployer_input,
    }
    rows: list[Row] = []
    for schema, validate in validators.items():
        checked = Row(schema, "validator")
        handled = Row(schema, "handler")
        for _ in range(count):
            doc = mutate(rng.choice(examples[schema]), rng)
            checked.record(lambda doc=doc, validate=validate: from_problems(validate(doc)))
            if schema == "deployer-input":
                continue
            documents = {
                name: rng.choice(examples[name])
                for name in ("ml-parameters", "hyperparameters", "manifest")
            }
            s3 = FakeS3()
            if schema == "manifest":
                documents["manifest"] = execution_input(doc, rng, s3)
            else:
                documents[schema] = doc
            event = base_event(
                documents, rng.choice([None, [], [BUCKET], [BUCKET, "other-bucket"]])
            )
            handled.record(
                lambda event=event, s3=s3: from_result(prepare.prepare_tuning_run(event, s3=s3))
            )
        rows += [checked] if schema == "deployer-input" else [checked, handled]

    together = Row("run documents", "validator")
    wrapper = Row("execution input", "handler")
    for _ in range(count):
        documents = {
            name: rng.choice(examples[name])
            for name in ("ml-parameters", "hyperparameters", "manifest")
        }
        for name in rng.sample(sorted(documents), rng.randint(1, 3)):
            documents[name] = mutate(documents[name], rng)
        together.record(
            lambda d=documents: [
                pair
                for problems in validation.validate_run_documents(
                    d["ml-parameters"], d["hyperparameters"], d["manifest"]
                ).values()
                for pair in from_problems(problems)
            ]
        )
        s3 = FakeS3()
        request = execution_input(rng.choice(examples["manifest"]), rng, s3)
        wrapped = mutate({"request": request, "runExecutionArn": EXECUTION_ARN + "-parent"}, rng)
        if rng.random() < 0.3 and isinstance(wrapped, dict):
            wrapped["request"] = {
                "manifestS3Uri": hostile(rng) if rng.random() < 0.5 else MANIFEST_URI
            }
            s3.objects[(BUCKET, "manifests/run.json")] = s3_body(
                rng.choice(examples["manifest"]), rng
            )
        event = base_event({**documents, "manifest": wrapped}, rng.choice([None, [BUCKET]]))
        event["mlParameters"] = rng.choice(examples["ml-parameters"])
        event["hyperparameters"] = rng.choice(examples["hyperparameters"])
        wrapper.record(
            lambda event=event, s3=s3: from_result(prepare.prepare_tuning_run(event, s3=s3))
        )
    return [*rows, together, wrapper]


def report(rows: list[Row]) -> None:
    header = f"{'schema':<16} {'stage':<9} {'documents':>9} {'crashes':>7} {'no path':>7} {'control':>7} {'longest':>7} {'mean ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for row in rows:
        times = sorted(row.times)
        mean = statistics.fmean(times) * 1000 if times else 0.0
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000 if times else 0.0
        print(
            f"{row.schema:<16} {row.stage:<9} {row.documents:>9} {row.crashes:>7} {row.no_path:>7} "
            f"{row.control:>7} {row.longest:>7} {mean:>8.2f} {p99:>8.2f}"
        )
    print()
    print("crashes: goal 0; no path: problems whose path does not start with '$' (goal 0);")
    print("control: messages or paths with control, format or separator characters (goal 0);")
    print("longest: the longest path or message, in characters (the summary message included).")
    for row in rows:
        for kind, number in row.crash_kinds.most_common():
            print(f"\n{row.schema} {row.stage}: {number} x {kind}\n{row.first_crash[kind]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000, help="documents per schema")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    args = parser.parse_args()
    started = time.monotonic()
    rows = run(args.documents, args.seed)
    report(rows)
    print(f"\n{time.monotonic() - started:.1f} s in all")
    return 0 if all(row.crashes == row.no_path == row.control == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
