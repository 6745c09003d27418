"""Summarise a ``py-spy record --format raw`` profile (collapsed stacks): the share of
samples spent in each part of the request path (inclusive), and the functions where the
CPU actually was (self time).

    python -m bench.profile_summary bench/results/profile.collapsed
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Where the CPU was: each sample goes to the layer of its innermost Python frame (the
# first pattern that matches it); the rows add up to 100%. Frames look like
# "function (path/to/file.py:line)".
LAYERS: tuple[tuple[str, str], ...] = (
    ("HTTP server + ASGI middleware", r"\((uvicorn|starlette|httptools|server/middleware)/"),
    ("GraphQL HTTP view (strawberry.http, ours)", r"\((strawberry/http|cross_web)/|graphql_view"),
    ("graphql-core: parse + validate", r"\(graphql/(language|validation)/"),
    ("graphql-core: execution", r"\(graphql/"),
    ("strawberry: field wrappers, info, DataLoader", r"\(strawberry/"),
    ("our code (schema, resolvers, loaders, services)", r"\((schema|resolvers|loaders|services)/"),
    ("Tortoise ORM + pypika", r"\((tortoise|pypika_tortoise)/"),
    ("asyncpg driver", r"\(asyncpg/"),
    ("logging", r"\(logging/|\(core/logging\.py"),
    ("event loop: uvloop (C) + asyncio", r"\(asyncio/|uvloop"),
)
OTHER_LAYER = "other (runtime, stdlib)"

# Inclusive shares of parts that do not wrap the whole request (a sample may count in
# several rows): the slow spots worth knowing by name.
PARTS: tuple[tuple[str, str], ...] = (
    ("graphql-core execution and everything below it", r"\(graphql/execution/"),
    ("parse + validate", r"\(graphql/(language|validation)/"),
    ("schema extensions (limits, cost, observer)", r"\(schema/(extensions|cost|limits)\.py"),
    ("level-at-a-time prefetch (resolvers/prefetch.py)", r"\(resolvers/prefetch\.py"),
    ("DataLoader batching", r"\(strawberry/dataloader\.py"),
    ("ORM + driver: queries end to end", r"\((tortoise|pypika_tortoise|asyncpg)/"),
    ("Tortoise: model instances from rows (_init_from_db)", r"_init_from_db"),
    ("Tortoise: SQL building (pypika)", r"\(pypika_tortoise/"),
    ("asyncio tasks and gather", r"\(asyncio/tasks\.py"),
    (
        "Model.__await__ (Tortoise models seen as awaitables)",
        r"Model\.__await__",
    ),
    ("response encoding", r"encode_json|orjson|\(json/"),
    ("logging", r"\(logging/|\(core/logging\.py"),
)


@dataclass
class Summary:
    samples: int
    layers: list[tuple[str, float]]
    parts: list[tuple[str, float]]
    self_time: list[tuple[str, float]]

    def markdown(self, top: int = 15) -> str:
        lines = [f"{self.samples} samples", "", "| layer (self time) | share |", "|---|---|"]
        lines += [f"| {label} | {share:.0%} |" for label, share in self.layers]
        lines += ["", "| part (inclusive) | share |", "|---|---|"]
        lines += [f"| {label} | {share:.0%} |" for label, share in self.parts]
        lines += ["", "| function (self time) | share |", "|---|---|"]
        lines += [f"| `{name}` | {share:.1%} |" for name, share in self.self_time[:top]]
        return "\n".join(lines)


def layer_of(frame: str) -> str:
    for label, pattern in LAYERS:
        if re.search(pattern, frame):
            return label
    return OTHER_LAYER


def summarise(text: str) -> Summary:
    stacks: list[tuple[list[str], int]] = []
    for line in text.splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack and samples.isdigit():
            stacks.append((stack.split(";"), int(samples)))
    total = sum(count for _, count in stacks) or 1
    self_time: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    for frames, count in stacks:
        self_time[frames[-1]] += count
        layers[layer_of(frames[-1])] += count
    parts = []
    for label, pattern in PARTS:
        regex = re.compile(pattern)
        hits = sum(count for frames, count in stacks if any(regex.search(f) for f in frames))
        parts.append((label, hits / total))
    return Summary(
        samples=total,
        layers=[(label, n / total) for label, n in layers.most_common()],
        parts=parts,
        self_time=[(name, n / total) for name, n in self_time.most_common()],
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(summarise(Path(argv[0]).read_text()).markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
