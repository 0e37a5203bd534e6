"""The event-driven YAML loader gives exactly PyYAML's objects, or hands the text back."""

from __future__ import annotations

import pytest
import yaml

from services.manifest.render import render, to_yaml
from services.manifest.validation import validate_manifest
from services.manifest.yaml_events import load_documents
from tests.unit.manifest.sizings import tenant

pytestmark = pytest.mark.unit

TEXTS = [
    "a: 1\nb: 1.5\nc: true\nd: no\ne: ~\nf: ''\ng: '010'\nh: 010\ni: 0x1F\nj: 1_000\n",
    "when: 2026-11-26\nat: 2026-11-26T10:00:00Z\ninf: .inf\nnan: .NaN\nsexagesimal: 1:30\n",
    '---\n---\nkind: Pod\n...\n---\n- 1\n- [a, {b: c}]\n- "quoted: true"\n',
    "80: http\n? plain\n: value\nnested: {list: [1, 2, {x: null}]}\nempty: {}\nnone: []\n",
    "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
    "yes: Yes\nON: off\nstr_tag: !!str 123\nnonspecific: ! 42\n",
]
LEFT_TO_PYYAML = [
    "base: &b {x: 1}\nuse: *b\n",
    "a: {<<: {x: 1}, y: 2}\n",
    "v: !!binary aGVsbG8=\n",
    "? [complex, key]\n: v\n",
    "a: [unclosed\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_fast_loader_matches_safe_load_all(text: str) -> None:
    assert load_documents(text) == list(yaml.safe_load_all(text))


@pytest.mark.parametrize("text", LEFT_TO_PYYAML)
def test_anchors_merge_keys_tags_complex_keys_and_syntax_errors_are_left_to_pyyaml(
    text: str,
) -> None:
    assert load_documents(text) is None


@pytest.mark.parametrize("preset", ["micro", "large"])
def test_a_rendered_manifest_loads_the_same_on_the_fast_path(preset: str) -> None:
    text = to_yaml(render(tenant(preset), True))
    assert load_documents(text) == list(yaml.safe_load_all(text))


def test_an_invalid_manifest_still_reports_lines_after_the_fast_path() -> None:
    objects = render(tenant("small"), False)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "three"
    report = validate_manifest(to_yaml(objects))
    error = next(e for e in report.errors if e.field == "spec.replicas")
    assert error.line is not None and error.line > 1
