"""The consoles' closed lists exist once, in the hub's Python (GET /api/v1/meta): every value has a label in
both catalogues, and no console file keeps a copy of a list."""

from __future__ import annotations

import json
import re

import pytest

from central.api.meta_api import Meta, build_meta
from central.web.routes import STATIC_DIR

# The catalogue key of each served list's values: the prefix the consoles call t() with.
LABEL_PREFIX = {
    "alert_types": "type.",
    "severities": "severity.",
    "source_kinds": "devices.kind_",
    "availabilities": "device.",
    "priorities": "priority.",
    "case_states": "state.",
    "open_states": "state.",
    "task_states": "state.",
    "reassign_states": "state.",
    "case_actions": "action.",
    "field_actions": "action.",
    "roles": "role.",
    "field_roles": "role.",
    "rule_classes": "class.",
    "sensor_kinds": "sensor.",
}
NOT_SHOWN = {"consoles", "feed_kinds"}  # page names the consoles navigate to; SSE event names: never shown
LANGUAGES = ("en", "zh")


def _catalogue(lang: str) -> dict[str, str]:
    return dict(json.loads((STATIC_DIR / "i18n" / f"{lang}.json").read_text(encoding="utf-8")))


def _labels_needed() -> set[str]:
    meta = build_meta()
    keys = {prefix + value for name, prefix in LABEL_PREFIX.items() for value in getattr(meta, name)}
    keys |= {f"rule.{k.kind}" for k in meta.rule_kinds}
    keys |= {f"rule.param.{k.param}" for k in meta.rule_kinds if k.param}
    return keys


def test_every_served_list_has_a_label_rule() -> None:
    """A list added to /meta must say how the consoles label it (or that they never show it)."""
    assert set(Meta.model_fields) == LABEL_PREFIX.keys() | {"rule_kinds"} | NOT_SHOWN


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_served_value_has_a_label(lang: str) -> None:
    assert sorted(_labels_needed() - _catalogue(lang).keys()) == []


def _value_sets() -> dict[str, set[str]]:
    """Each served list as a set of strings (rule kinds by kind; sublists like open_states are in theirs)."""
    meta = build_meta().model_dump(mode="json")
    sets = {name: set(values) for name, values in meta.items() if isinstance(values, list)
            and all(isinstance(v, str) for v in values)}
    sets["rule_kinds"] = {k["kind"] for k in meta["rule_kinds"]}
    sets["consoles"] = set(meta["consoles"])
    return {name: values for name, values in sets.items() if len(values) >= 2}


STRING = re.compile(r"""["'`]([\w.-]+)["'`]""")
ARRAY = re.compile(r"""\[\s*((?:["'`][\w.-]+["'`]\s*,\s*)+["'`][\w.-]+["'`])\s*,?\s*\]""")  # strings only
OBJECT_KEYS = re.compile(r"\{([^{}]*)\}", re.S)
KEY = re.compile(r"""(?:^|[{,])\s*["']?([a-z_]+)["']?\s*:""")
SELECT = re.compile(r"<select\b[^>]*>(.*?)</select>", re.S)
OPTION_VALUE = re.compile(r"""<option\b[^>]*\bvalue=["']([\w.-]+)["']""")


def _object_keys(text: str) -> list[list[str]]:
    """The keys of every object literal, nested ones too (innermost first, each then folded to a value)."""
    found: list[list[str]] = []
    while True:
        inner = list(OBJECT_KEYS.finditer(text))
        if not inner:
            return found
        found += [KEY.findall(m.group(1)) for m in inner]
        text = OBJECT_KEYS.sub("0", text)


def copied_lists(text: str, suffix: str, value_sets: dict[str, set[str]]) -> list[str]:
    """What in one console file copies a served list: an array literal of strings (or a select's options)
    that are two or more values all of one list, or an object literal keyed only by values of one list and by
    more than half of them (a table meant to cover the list; a few per-value exceptions are the page's own)."""
    groups: list[tuple[str, list[str]]] = []
    if suffix == ".js":
        groups += [(f"[{m.group(1).strip()[:60]}]", STRING.findall(m.group(1))) for m in ARRAY.finditer(text)]
        objects = _object_keys(text)
        copies = [f"{{{', '.join(keys)[:60]}}} keyed by {name}" for keys in objects
                  for name, values in value_sets.items() if set(keys) <= values and 2 * len(set(keys)) > len(values)]
    else:
        copies = []
    if suffix == ".html":
        groups += [("<select>", OPTION_VALUE.findall(m.group(1))) for m in SELECT.finditer(text)]
    for shown, strings in groups:
        for name, values in value_sets.items():
            if len(strings) >= 2 and set(strings) <= values:
                copies.append(f"{shown} copies {name}")
    return copies


def test_no_console_file_keeps_a_copy_of_a_served_list() -> None:
    value_sets = _value_sets()
    files = [p for p in STATIC_DIR.rglob("*") if p.suffix in {".js", ".html"}]
    assert len(files) > 10
    found = {str(p.relative_to(STATIC_DIR)): copied_lists(p.read_text(encoding="utf-8"), p.suffix, value_sets)
             for p in files}
    assert {path: copies for path, copies in found.items() if copies} == {}


@pytest.mark.parametrize(
    "snippet, suffix, copied",
    [
        ('const STATES = ["reported", "registered", "closed"];', ".js", True),
        ("const OPEN = new Set(['dispatched', 'accepted']);", ".js", True),
        ("const K = { intrusion: 1, loitering: 2, illegal_parking: 3, crowding: 4, line_crossing: 5, "
         "presence: 6, motion: 7 };", ".js", True),
        ('<select name="kind"><option value="smoke_detector">S</option><option value="gas">G</option></select>',
         ".html", True),
        ('if (item.state === "dispatched") return ["health.camera", "x"];', ".js", False),
        ("const HOME = { admin: 'operator', operator: 'operator', installer: 'installer', grid_worker: 'worker', "
         "grid_leader: 'worker' };", ".js", True),
        ("const FORMS = { reject: ['reason'], close: ['score', 'note'] };", ".js", False),
        ("const paths = { camera: (id) => `cameras/${id}`, sensor: 's', gateway: 'g', areas: 'a' };", ".js", False),
        ('<select id="lang"><option value="en">English</option><option value="zh">中文</option></select>',
         ".html", False),
    ],
)
def test_the_copy_finder_finds_copies_and_only_copies(snippet: str, suffix: str, copied: bool) -> None:
    assert bool(copied_lists(snippet, suffix, _value_sets())) is copied
