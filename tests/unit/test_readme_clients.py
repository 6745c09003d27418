"""The README's "Clients" snippets are the code the client tests run: each JavaScript block of
that section is, character for character, a ``// README:start <name>`` … ``// README:end``
region of a scenario in tests/clients/ (run by tests/e2e/test_js_clients.py), and every such
region is shown in the README."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLIENTS_DIR = PROJECT_ROOT / "tests" / "clients"
REGION = re.compile(r"^// README:start (?P<name>[\w-]+)\n(?P<code>.*?)^// README:end$", re.M | re.S)
JS_BLOCK = re.compile(r"^```js\n(?P<code>.*?)^```$", re.M | re.S)


def clients_section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Clients\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def regions() -> dict[str, str]:
    found: dict[str, str] = {}
    for script in sorted(CLIENTS_DIR.glob("*.mjs")):
        for match in REGION.finditer(script.read_text(encoding="utf-8")):
            assert match["name"] not in found, f"two README regions named {match['name']}"
            found[match["name"]] = match["code"]
    return found


def test_every_javascript_snippet_of_the_clients_section_is_a_tested_region():
    tested = set(regions().values())
    shown = [match["code"] for match in JS_BLOCK.finditer(clients_section())]

    assert shown
    untested = [code for code in shown if code not in tested]
    assert untested == [], "README snippets that no script in tests/clients runs as they are"


def test_every_region_of_the_client_scripts_is_shown_in_the_readme():
    shown = {match["code"] for match in JS_BLOCK.finditer(clients_section())}

    missing = [name for name, code in regions().items() if code not in shown]
    assert missing == []
