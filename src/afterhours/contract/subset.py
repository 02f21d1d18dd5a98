"""Derive the spec subset shipped in the package from the vendors' full specs.

The subset keeps, verbatim, every operation afterhours calls (report.AFTERHOURS_ENDPOINTS) and
every operation a request to a twin's route could be validated against (the same rewrites as
validate.check: Zendesk's `.json` suffix dropped, Jira's REST v2 read as v3), with everything
their `$ref`s reach and the security schemes they name. A clone without ../shared/specs then
validates exactly as with the full files. After adding an endpoint or a twin route, run:

    python -m afterhours.contract.subset [FULL_SPECS_DIR]

(FULL_SPECS_DIR defaults to $AFTERHOURS_SPECS_DIR or ../shared/specs beside the repository.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from afterhours.contract import allowances, specs
from afterhours.contract.report import AFTERHOURS_ENDPOINTS
from afterhours.errors import ConfigError
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

SCRIPT = "python -m afterhours.contract.subset (src/afterhours/contract/subset.py)"
SOURCES_FILE = "SOURCES.txt"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
REPO_ROOT = Path(__file__).resolve().parents[3]


def served(service: str) -> list[tuple[str, str]]:
    """(METHOD, path) of every route of `service`'s twin, spelt as the validator looks it up."""
    twin = ZendeskTwin() if service == "zendesk" else JiraTwin()
    return [(method, allowances.rewrite_path(service, pattern, []))
            for method, pattern in twin.server.routes()]


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _fits(spec_segment: str, twin_segment: str) -> bool:
    # A twin's "{id}" takes any one segment ("show_many" too); a spec's "{x}" is openapi-core's
    # [^/]* (templating.paths.parsers), possibly inside a segment.
    if "{" in twin_segment or spec_segment == twin_segment:
        return True
    parts = re.split(r"\{[^}]*\}", spec_segment)
    return len(parts) > 1 and re.fullmatch("[^/]*".join(map(re.escape, parts)),
                                           twin_segment) is not None


def may_match(spec_path: str, twin_path: str) -> bool:
    """Whether openapi-core could match some request to the twin route `twin_path` with the
    spec path `spec_path` (it searches the URL's end, so a shorter spec path may match too)."""
    spec, twin = _segments(spec_path), _segments(twin_path)
    return len(spec) <= len(twin) and all(
        _fits(s, t) for s, t in zip(spec, twin[len(twin) - len(spec):], strict=True))


def used_operations(document: dict[str, Any], service: str) -> dict[str, set[str]]:
    """Spec path -> the methods (lowercase) the subset keeps for `service`."""
    paths: dict[str, dict[str, Any]] = document["paths"]
    kept: dict[str, set[str]] = {}
    for owner, endpoint in AFTERHOURS_ENDPOINTS:
        method, path = endpoint.split(" ", 1)
        if owner != service:
            continue
        if method.lower() not in paths.get(path, {}):
            raise ConfigError(f"{service} {endpoint} is listed in report.AFTERHOURS_ENDPOINTS "
                              "but the spec has no such operation: fix the list's spelling")
        kept.setdefault(path, set()).add(method.lower())
    for method, twin_path in served(service):
        for path, item in paths.items():
            if method.lower() in item and may_match(path, twin_path):
                kept.setdefault(path, set()).add(method.lower())
    return kept


def _refs(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str):
                yield ref
            # A discriminator's mapping names schemas too (a ref, or a bare schema name).
            discriminator = current.get("discriminator")
            mapping = discriminator.get("mapping") if isinstance(discriminator, dict) else None
            if isinstance(mapping, dict):
                yield from (name if name.startswith("#") else f"#/components/schemas/{name}"
                            for name in mapping.values())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _components(document: dict[str, Any], roots: list[Any]) -> dict[str, dict[str, Any]]:
    """Every component the `roots` reach through `$ref`, transitively, kept whole."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(roots)
    while pending:
        for ref in _refs(pending.pop()):
            parts = ref.split("/")
            if len(parts) != 4 or parts[:2] != ["#", "components"]:
                raise ConfigError(f"unsupported $ref {ref!r}: the subset copies whole "
                                  "components only; extend afterhours.contract.subset")
            kind, name = (p.replace("~1", "/").replace("~0", "~") for p in parts[2:])
            if name not in found.get(kind, {}):
                target = document["components"][kind][name]
                found.setdefault(kind, {})[name] = target
                pending.append(target)
    return found


def _security_schemes(document: dict[str, Any], paths: dict[str, Any]) -> set[str]:
    requirements = list(document.get("security", []))
    for item in paths.values():
        for method, operation in item.items():
            if method in METHODS:
                requirements += operation.get("security", [])
    return {name for requirement in requirements for name in requirement}


def recorded_sha256(sources: Path, file_name: str) -> str:
    """The sha256 SOURCES.txt records for `file_name` (a block headed by the bare name)."""
    current = None
    for line in sources.read_text(encoding="utf-8").splitlines():
        if line and not line[0].isspace():
            current = line.strip()
        match = re.match(r"\s+sha256\s*:\s*([0-9a-f]{64})", line)
        if match and current == file_name:
            return match.group(1)
    raise ConfigError(f"{sources} records no sha256 for {file_name}: add its provenance there")


def derive(document: dict[str, Any], service: str, source: Path) -> dict[str, Any]:
    """The subset of `document` (`service`'s full spec, read from `source`)."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    recorded = recorded_sha256(source.parent / SOURCES_FILE, source.name)
    if digest != recorded:
        raise ConfigError(f"{source} has sha256 {digest}, {SOURCES_FILE} records {recorded}: "
                          "derive from the recorded file, or record the new one first")
    kept = used_operations(document, service)
    paths = {path: {key: value for key, value in item.items()
                    if key not in METHODS or key in kept[path]}
             for path, item in document["paths"].items() if path in kept}
    reached = _components(document, [paths])
    schemes = _security_schemes(document, paths)
    reached["securitySchemes"] = dict.fromkeys(schemes)
    # Whole components, in the vendor's order.
    components = {kind: {name: node for name, node in named.items() if name in reached[kind]}
                  for kind, named in document["components"].items() if reached.get(kind)}
    info = {**document["info"], "x-derived-from": {
        "file": source.name, "sha256": digest, "script": SCRIPT,
        "kept": "the operations afterhours and its twins use, and every $ref they reach, "
                "verbatim; see SOURCES.md beside this file"}}
    subset = {"openapi": document["openapi"], "info": info, "servers": document["servers"],
              "paths": paths, "components": components}
    if "security" in document:
        subset["security"] = document["security"]
    return subset


def render(subset: dict[str, Any]) -> str:
    """Compact JSON on one line, keys in the vendor's order (deterministic: the source's).

    Not sorted: openapi-core tries equally specific paths in document order, and jsonschema
    reports a schema's findings in keyword order; the vendor's order keeps both as they are.
    """
    return json.dumps(subset, separators=(",", ":"), ensure_ascii=False) + "\n"


def rendered_subsets(full_dir: Path) -> dict[str, str]:
    """Subset file name -> its content, derived from the full specs in `full_dir`."""
    out = {}
    for service, (full_name, subset_name) in specs.FILE_NAMES.items():
        source = full_dir / full_name
        out[subset_name] = render(derive(specs.load_document(source), service, source))
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the subset files into the package (or --out) from the full specs."""
    parser = argparse.ArgumentParser(prog="python -m afterhours.contract.subset",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("full_specs_dir", nargs="?", type=Path,
                        help="folder of the full specs (default: $AFTERHOURS_SPECS_DIR, "
                             "then ../shared/specs beside the repository)")
    parser.add_argument("--out", type=Path, default=specs.SUBSET_DIR,
                        help=f"where to write the subset (default: {specs.SUBSET_DIR})")
    args = parser.parse_args(argv)
    full_dir = args.full_specs_dir or specs.full_specs_dir(REPO_ROOT)
    if full_dir is None:
        parser.error(f"no full specs found: pass their folder, or set {specs.ENV_VAR}")
    for name, text in rendered_subsets(full_dir).items():
        target = args.out / name
        # Replaced whole, never truncated: a test session reading it meanwhile sees one or
        # the other.
        partial = target.with_name(target.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        print(f"{target}: {len(text.encode()):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
