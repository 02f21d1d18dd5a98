"""The deployment examples stay in step with the policy and the settings they copy."""

from __future__ import annotations

import re
from pathlib import Path

from afterhours.settings import Settings

ROOT = Path(__file__).parents[2]


def test_the_kubernetes_policy_is_the_shipped_policy() -> None:
    # kustomize reads no file outside its folder, so the base keeps a copy of the policy for
    # its configMapGenerator: `cp config/policy.yaml deploy/kubernetes/base/policy.yaml`.
    copy = ROOT / "deploy" / "kubernetes" / "base" / "policy.yaml"
    assert copy.read_text() == (ROOT / "config" / "policy.yaml").read_text()


def test_the_env_example_lists_every_setting() -> None:
    text = (ROOT / "deploy" / "afterhours.env.example").read_text()
    listed = set(re.findall(r"^#?\s*AFTERHOURS_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_the_readme_documents_every_setting() -> None:
    text = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `AFTERHOURS_([A-Z_]+)`", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
