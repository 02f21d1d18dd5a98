"""Find and load the vendors' OpenAPI documents (read once per process: they are megabytes)."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI

ENV_VAR = "AFTERHOURS_SPECS_DIR"
ZENDESK_FILE = "zendesk-support.oas.yaml"
JIRA_FILE = "jira-platform.openapi.json"
# CI clones the repository with the specs' checkout beside it: <parent>/main and <parent>/shared.
DEFAULT_RELATIVE = Path("..") / "shared" / "specs"
# The subset shipped in the package (made by afterhours.contract.subset; see its SOURCES.md):
# the operations afterhours and its twins use, verbatim, so a lone clone still validates.
SUBSET_DIR = Path(__file__).parent / "spec_subset"
ZENDESK_SUBSET_FILE = "zendesk-support.subset.json"
JIRA_SUBSET_FILE = "jira-platform.subset.json"
# Each vendor's file names, the full spec first: a folder holds one or the other.
FILE_NAMES: dict[str, tuple[str, str]] = {
    "zendesk": (ZENDESK_FILE, ZENDESK_SUBSET_FILE),
    "jira": (JIRA_FILE, JIRA_SUBSET_FILE),
}


class _SpecLoader(yaml.CSafeLoader):
    """PyYAML's C loader, reading YAML 1.1 oddities as the strings JSON-minded tools see.

    Zendesk's file has unquoted timestamps in examples and a `change: =` value; as dates and
    YAML "value" tags they would not be JSON at all. The same choice as derive_specs.py.
    """


def _as_string(loader: yaml.BaseLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):  # both tags only ever tag scalars
        raise TypeError(f"unexpected {type(node).__name__} for {node.tag}")
    return str(loader.construct_scalar(node))


_SpecLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_string)
_SpecLoader.add_constructor("tag:yaml.org,2002:value", _as_string)


def find_specs_dir(repo_root: Path) -> Path:
    """Where the spec files are: $AFTERHOURS_SPECS_DIR, else ../shared/specs beside the repo
    when both full specs are there, else the subset shipped in the package."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    shared = (repo_root / DEFAULT_RELATIVE).resolve()
    return shared if not missing_files(shared) else SUBSET_DIR


def full_specs_dir(repo_root: Path) -> Path | None:
    """The folder holding both full vendor specs ($AFTERHOURS_SPECS_DIR, then ../shared/specs),
    or None when neither does (a lone clone: only the shipped subset is there)."""
    configured = os.environ.get(ENV_VAR)
    candidates = [Path(configured)] if configured else []
    for folder in [*candidates, (repo_root / DEFAULT_RELATIVE).resolve()]:
        if all((folder / names[0]).is_file() for names in FILE_NAMES.values()):
            return folder
    return None


def spec_file(specs_dir: Path, service: str) -> Path | None:
    """`service`'s spec in `specs_dir`: the full one, else the subset, else None."""
    return next((specs_dir / name for name in FILE_NAMES[service]
                 if (specs_dir / name).is_file()), None)


def missing_files(specs_dir: Path) -> list[Path]:
    """The spec files that are not in `specs_dir` (empty when both vendors have one)."""
    return [specs_dir / names[0] for service, names in FILE_NAMES.items()
            if spec_file(specs_dir, service) is None]


def describe(specs_dir: Path) -> str:
    """Which specs `specs_dir` holds, for the contract report."""
    files = [spec_file(specs_dir, service) for service in FILE_NAMES]
    if all(f is not None and f.name == names[0] for f, names in
           zip(files, FILE_NAMES.values(), strict=True)):
        return "the vendors' full specs"
    return ("the shipped subset (" + ", ".join(f.name for f in files if f is not None)
            + "; derived from the full specs, see SOURCES.md there)")


def load_document(path: Path) -> dict[str, Any]:
    """A spec file as plain data: YAML (the full Zendesk spec) or JSON (the others)."""
    if path.suffix in (".yaml", ".yml"):
        with path.open(encoding="utf-8") as stream:
            loaded = yaml.load(stream, Loader=_SpecLoader)  # noqa: S506  (a safe loader subclass)
    else:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise TypeError(f"{path}: an OpenAPI document is a mapping, not {type(loaded).__name__}")
    return loaded


@dataclass(frozen=True)
class Spec:
    """One vendor's spec: the raw document and openapi-core's view of it."""

    service: str
    path: Path
    document: dict[str, Any]
    openapi: OpenAPI
    strict: OpenAPI  # for requests: an object schema that is silent on extras forbids them

    @property
    def host_url(self) -> str:
        """The spec's first server with its variables' defaults, e.g. https://example.zendesk.com.

        The twins listen on 127.0.0.1, which no spec lists; requests are validated as if they
        had been sent to the vendor's host, so path, method, parameters and body are checked.
        """
        server = self.document["servers"][0]
        url = str(server["url"])
        for name, variable in (server.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(variable["default"]))
        return url.rstrip("/")


def _openapi(document: dict[str, Any], *, strict: bool = False) -> OpenAPI:
    # spec_validator_cls=None: both files fail openapi-spec-validator on their known defects
    # (dangling path parameters, see the specs' README); validating them again costs seconds
    # and would reject the documents we are told to trust.
    # strict: what we send must use the names the spec knows (a misspelt field would pass
    # silently otherwise); what the twins answer may carry extras, as the live services' do.
    return OpenAPI.from_dict(document, config=Config(
        spec_validator_cls=None,  # type: ignore[arg-type]  # documented "skip", typed Unset
        additional_properties_default_policy="forbid" if strict else "allow"))


def _load(specs_dir: Path, service: str) -> Spec:
    path = spec_file(specs_dir, service) or specs_dir / FILE_NAMES[service][0]
    document = load_document(path)
    return Spec(service, path, document, _openapi(document), _openapi(document, strict=True))


@functools.cache
def load_zendesk(specs_dir: Path) -> Spec:
    """Zendesk's Support API spec (full YAML, about 1.2 MB, ~0.8 s to load; or the subset)."""
    return _load(specs_dir, "zendesk")


@functools.cache
def load_jira(specs_dir: Path) -> Spec:
    """Atlassian's Jira Cloud platform spec (full JSON, about 2.4 MB, REST v3; or the subset)."""
    return _load(specs_dir, "jira")
