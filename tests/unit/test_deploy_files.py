"""The deployment examples stay in step with the policy and the settings they copy."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from afterhours.settings import Settings

ROOT = Path(__file__).parents[2]


def test_the_kubernetes_configmap_carries_the_shipped_policy() -> None:
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    (configmap,) = [d for d in documents if d and d.get("kind") == "ConfigMap"]
    assert configmap["data"]["policy.yaml"] == (ROOT / "config" / "policy.yaml").read_text()


def test_the_env_example_lists_every_setting() -> None:
    text = (ROOT / "deploy" / "afterhours.env.example").read_text()
    listed = set(re.findall(r"^#?\s*AFTERHOURS_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_the_readme_documents_every_setting() -> None:
    text = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `AFTERHOURS_([A-Z_]+)`", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}
