"""deploy/ as a cluster and Compose would take it, checked with the real tools.

Kubernetes: each kustomization is rendered by kustomize (the one built into kubectl), and every
object is validated against Kubernetes' own OpenAPI schemas, strictly (kubernetes-validate:
an unknown or misspelt field fails), for the oldest and the newest release we aim at; then the
references between objects are followed as the kubelet would. Compose: the compose-spec JSON
schema (vendored by check-jsonschema) and podman-compose's own parser.

Each tool that is missing here skips its tests and says so; .ci/run installs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
KUBECTL = shutil.which("kubectl")
PODMAN = shutil.which("podman")
BIN = Path(sys.executable).parent  # the venv's console scripts
# The oldest Kubernetes release still commonly run, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.28.0", "latest")
KUSTOMIZATIONS = ("base", "overlays/postgres-ha")

needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed: its built-in kustomize renders"
    " deploy/kubernetes (the machine image has it; .ci/run says so when it has not)")
needs_podman = pytest.mark.skipif(
    PODMAN is None, reason="podman-compose needs podman (../shared/container/setup installs it)")

Objects = list[dict[str, Any]]


@pytest.fixture(scope="module")
def deploy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/ with each secrets example copied to the file an operator would fill."""
    copy = tmp_path_factory.mktemp("deploy") / "deploy"
    shutil.copytree(ROOT / "deploy", copy)
    for example in copy.rglob("*.env.example"):
        example.with_suffix("").write_text(example.read_text())
    return copy


def render(kustomization: Path) -> Objects:
    """`kubectl kustomize DIR`: the objects `kubectl apply -k DIR` would send."""
    done = subprocess.run(  # noqa: S603  (kubectl from PATH, on our own files)
        [str(KUBECTL), "kustomize", str(kustomization)],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(deploy: Path) -> dict[str, Objects]:
    """Each kustomization, rendered."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    return {name: render(deploy / "kubernetes" / name) for name in KUSTOMIZATIONS}


def one(objects: Objects, kind: str, prefix: str = "afterhours") -> dict[str, Any]:
    """The single object of `kind` whose name starts with `prefix` (generated names get a hash)."""
    (found,) = [o for o in objects
                if o["kind"] == kind and o["metadata"]["name"].startswith(prefix)]
    return found


def container(objects: Objects) -> dict[str, Any]:
    """The daemon's container in the Deployment."""
    containers = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["afterhours"]
    return dict(containers[0])


def names(objects: Objects, kind: str) -> set[str]:
    """Names of the rendered objects of `kind`."""
    return {o["metadata"]["name"] for o in objects if o["kind"] == kind}


def secret_refs(pod: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(secret, key) of every secretKeyRef in the pod's containers."""
    for each in pod["containers"]:
        for variable in each.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                yield ref["name"], ref["key"]


@needs_kubectl
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_rendered_object_passes_the_kubernetes_schemas(
    rendered: dict[str, Objects], name: str, version: str
) -> None:
    validator = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (pip install -e"
        " '.[dev]' installs it)")
    if version == "latest":
        version = validator.utils.latest_version()
    problems = []
    for obj in rendered[name]:
        try:
            validator.validate(obj, version, strict=True)
        except validator.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} {where}: {error.message}")
    assert not problems, "\n".join(problems)
    assert {o["kind"] for o in rendered[name]} >= {
        "Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret"}


@needs_kubectl
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_reference_in_the_pod_resolves(rendered: dict[str, Objects], name: str) -> None:
    objects = rendered[name]
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    for source in container(objects).get("envFrom", []):
        assert source["configMapRef"]["name"] in names(objects, "ConfigMap")
    for secret_name, key in secret_refs(pod):
        # A key missing from the Secret would keep the pod from starting.
        assert key in one(objects, "Secret", secret_name)["data"], (secret_name, key)
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container(objects)["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            assert volume["configMap"]["name"] in names(objects, "ConfigMap")
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            assert claim in names(objects, "PersistentVolumeClaim")
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    for selecting in (one(objects, "Service")["spec"]["selector"],
                      one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]):
        assert selecting.items() <= labels.items()


@needs_kubectl
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_probes_and_the_scrape_target_are_the_daemons_http_port(
    rendered: dict[str, Objects], name: str
) -> None:
    objects = rendered[name]
    daemon = container(objects)
    assert daemon["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    settings = one(objects, "ConfigMap", "afterhours-settings")["data"]
    assert settings["AFTERHOURS_HTTP_LISTEN"] == "0.0.0.0:8080"
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):
        assert daemon[probe]["httpGet"] == {"path": path, "port": "http"}
        assert daemon[probe]["timeoutSeconds"] <= 5
    annotations = one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": "8080",
                           "prometheus.io/path": "/metrics"}
    service = one(objects, "Service")["spec"]
    assert service["ports"] == [{"name": "http", "port": 8080, "targetPort": "http",
                                 "protocol": "TCP"}]


@needs_kubectl
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_the_daemon_runs_as_non_root_on_a_read_only_root(
    rendered: dict[str, Objects], name: str
) -> None:
    objects = rendered[name]
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
    assert pod["automountServiceAccountToken"] is False
    daemon = container(objects)
    assert daemon["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
        "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    mounts = {m["mountPath"] for m in daemon["volumeMounts"]}
    # The only places it writes (state, scratch), and the policy it reads.
    assert {"/var/lib/afterhours", "/tmp", "/app/config"} <= mounts  # noqa: S108
    assert daemon["resources"]["requests"]
    assert daemon["resources"]["limits"]["memory"]
    assert pod["terminationGracePeriodSeconds"] > 10  # the daemon stops within 10 s


@needs_kubectl
def test_the_policy_configmap_carries_the_shipped_policy(rendered: dict[str, Objects]) -> None:
    objects = rendered["base"]
    policy = one(objects, "ConfigMap", "afterhours-policy")
    assert policy["data"]["policy.yaml"] == (ROOT / "config" / "policy.yaml").read_text()
    mounts = {m["name"]: m for m in container(objects)["volumeMounts"]}
    assert mounts["policy"]["mountPath"] == "/app/config"
    settings = one(objects, "ConfigMap", "afterhours-settings")["data"]
    assert settings["AFTERHOURS_POLICY_FILE"] == "/app/config/policy.yaml"


@needs_kubectl
def test_the_base_runs_one_daemon_on_its_volume(rendered: dict[str, Objects]) -> None:
    objects = rendered["base"]
    deployment = one(objects, "Deployment")["spec"]
    assert deployment["replicas"] == 1
    assert deployment["strategy"] == {"type": "Recreate"}  # never two on one SQLite file
    assert one(objects, "PersistentVolumeClaim")["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert container(objects)["image"] == "registry.example.com/afterhours:0.1.0"


@needs_kubectl
def test_the_postgres_overlay_runs_two_replicas_on_one_database(
    rendered: dict[str, Objects]
) -> None:
    objects = rendered["overlays/postgres-ha"]
    deployment = one(objects, "Deployment")["spec"]
    assert deployment["replicas"] == 2
    assert deployment["strategy"]["type"] == "RollingUpdate"
    assert deployment["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert one(objects, "PodDisruptionBudget")["spec"] == {
        "minAvailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "afterhours"}}}
    assert not names(objects, "PersistentVolumeClaim")
    pod = deployment["template"]["spec"]
    state = {v["name"]: v for v in pod["volumes"]}["state"]
    assert set(state) == {"name", "emptyDir"}
    secret = one(objects, "Secret")
    assert (secret["metadata"]["name"], "AFTERHOURS_STATE_URL") in set(secret_refs(pod))
    assert {"AFTERHOURS_ZENDESK_TOKEN", "AFTERHOURS_STATE_URL"} <= set(secret["data"])
    settings = one(objects, "ConfigMap", "afterhours-settings")["data"]
    assert settings["AFTERHOURS_LEASE_SECONDS"] == "30"
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"


@needs_kubectl
def test_the_servicemonitor_component_scrapes_every_pod_once(deploy: Path) -> None:
    # No registry package ships the Prometheus Operator's CRD schemas for a validator here:
    # what is checked is that kustomize accepts the component and that its selector and port
    # name find the Service.
    overlay = deploy / "kubernetes" / "overlays" / "with-servicemonitor"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["../../base"], "components": ["../../components/servicemonitor"]}))
    objects = render(overlay)
    monitor = one(objects, "ServiceMonitor")
    service = one(objects, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"][
        "labels"].items()
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["http"]
    assert ports == {"http"}
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    template = one(objects, "Deployment")["spec"]["template"]["metadata"]
    assert not template.get("annotations")  # no second scrape by annotation


def test_the_compose_file_matches_the_compose_spec() -> None:
    check = BIN / "check-jsonschema"
    if not check.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]' installs it)")
    done = subprocess.run(  # noqa: S603  (the venv's own console script)
        [str(check), "--builtin-schema", "vendor.compose-spec", str(ROOT / "deploy" /
                                                                     "compose.yaml")],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_podman
@pytest.mark.parametrize("profile", [None, "postgres"])
def test_podman_compose_reads_the_compose_file(deploy: Path, profile: str | None) -> None:
    compose = BIN / "podman-compose"
    if not compose.exists():
        pytest.skip("podman-compose is not installed (pip install -e '.[dev]' installs it)")
    options = ["--profile", profile] if profile else []
    done = subprocess.run(  # noqa: S603  (the venv's own console script)
        [str(compose), "-f", "compose.yaml", *options, "config"],
        cwd=deploy, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert set(services) == ({"afterhours", "postgres"} if profile else {"afterhours"})
    daemon = services["afterhours"]
    assert daemon["read_only"] is True
    assert daemon["ports"] == ["127.0.0.1:8080:8080"]
    assert daemon["environment"]["AFTERHOURS_HTTP_LISTEN"] == "0.0.0.0:8080"
    assert daemon["volumes"] == ["afterhours-state:/var/lib/afterhours"]


@pytest.mark.parametrize("path", [
    "deploy/afterhours.env", "deploy/postgres.env", "deploy/kubernetes/base/secrets.env",
    "deploy/kubernetes/overlays/postgres-ha/secrets.env"])
def test_the_files_that_hold_real_secrets_are_never_committed(path: str) -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run([git, "check-ignore", "--quiet", path],  # noqa: S603
                          cwd=ROOT, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, f"{path} is not in .gitignore"
