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
    """Where the spec files are: $AFTERHOURS_SPECS_DIR, else ../shared/specs beside the repo."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else (repo_root / DEFAULT_RELATIVE).resolve()


def missing_files(specs_dir: Path) -> list[Path]:
    """The spec files that are not in `specs_dir` (empty when both are there)."""
    return [p for p in (specs_dir / ZENDESK_FILE, specs_dir / JIRA_FILE) if not p.is_file()]


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


@functools.cache
def load_zendesk(specs_dir: Path) -> Spec:
    """Zendesk's Support API spec (YAML, about 1.2 MB; ~0.8 s to load)."""
    path = specs_dir / ZENDESK_FILE
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=_SpecLoader)  # noqa: S506  (a safe loader subclass)
    return Spec("zendesk", path, document, _openapi(document), _openapi(document, strict=True))


@functools.cache
def load_jira(specs_dir: Path) -> Spec:
    """Atlassian's Jira Cloud platform spec (JSON, about 2.4 MB; REST v3 paths)."""
    path = specs_dir / JIRA_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    return Spec("jira", path, document, _openapi(document), _openapi(document, strict=True))
