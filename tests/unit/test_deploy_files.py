"""The deployment examples stay in step with the policy and the settings they copy."""

from __future__ import annotations

import re
from pathlib import Path

from afterhours.settings import SECRET_FILE_SETTINGS, Settings

ROOT = Path(__file__).parents[2]
# What the README and the env example must list: every setting, and the *_FILE variant of
# each secret (a variable of its own, though not a field: settings.SecretFiles reads it).
DOCUMENTED = ({name.upper() for name in Settings.model_fields}
              | {f"{name.upper()}_FILE" for name in SECRET_FILE_SETTINGS})


def test_the_kubernetes_policy_is_the_shipped_policy() -> None:
    # kustomize reads no file outside its folder, so the base keeps a copy of the policy for
    # its configMapGenerator: `cp config/policy.yaml deploy/kubernetes/base/policy.yaml`.
    copy = ROOT / "deploy" / "kubernetes" / "base" / "policy.yaml"
    assert copy.read_text() == (ROOT / "config" / "policy.yaml").read_text()


def test_the_env_example_lists_every_setting() -> None:
    text = (ROOT / "deploy" / "afterhours.env.example").read_text()
    listed = set(re.findall(r"^#?\s*AFTERHOURS_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert listed == DOCUMENTED


def test_the_readme_documents_every_setting() -> None:
    text = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `AFTERHOURS_([A-Z_]+)`", text, flags=re.MULTILINE))
    assert documented == DOCUMENTED


def test_every_file_variant_belongs_to_a_secret_setting() -> None:
    # A _FILE for a setting that is not secret (or no longer exists) would document nothing.
    for name in SECRET_FILE_SETTINGS:
        assert name in Settings.model_fields
        assert "SecretStr" in str(Settings.model_fields[name].annotation)


def _settings_in(path: Path) -> set[str]:
    return set(re.findall(r"^AFTERHOURS_([A-Z_]+)=", path.read_text(), flags=re.MULTILINE))


def test_the_kubernetes_base_sets_real_settings_and_every_required_one() -> None:
    base = ROOT / "deploy" / "kubernetes" / "base"
    given = _settings_in(base / "settings.env") | _settings_in(base / "secrets.env.example")
    known = {name.upper() for name in Settings.model_fields}
    required = {name.upper() for name, field in Settings.model_fields.items()
                if field.is_required()}
    assert given <= known, f"not settings: {sorted(given - known)}"
    assert required <= given, f"the pod would lack: {sorted(required - given)}"
    secret = {"ZENDESK_TOKEN", "JIRA_TOKEN", "WEBHOOKS"}
    assert _settings_in(base / "secrets.env.example") == secret  # and none in the ConfigMap
