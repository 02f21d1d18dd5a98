"""A long, busy night for the chaos test: many tickets, agents at work, faults everywhere."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from jira import JIRA

from afterhours.clock import ManualClock
from afterhours.twins.chat import ChatTwin
from afterhours.twins.faults import FaultRule
from afterhours.twins.jira import JiraTwin
from afterhours.twins.pagerduty import PagerDutyTwin
from afterhours.twins.slack_api import SlackApiTwin
from afterhours.twins.zendesk import ZendeskTwin

# Friday 20 November 2026, 18:00 in London: the desk has just closed for the weekend.
START = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
ARRIVALS = timedelta(hours=8)  # tickets keep coming in until 02:00
NIGHT = timedelta(hours=27)  # long enough for the 24-hour ladder of the early tickets

# Subjects the SOP policy (config/policy.yaml) tells apart.
KINDS = {
    "bug": ("Export crashes the app ({n})", 0.25),
    "billing": ("Refund for invoice {n}", 0.25),
    "outage": ("Our API is down ({n})", 0.15),
    "general": ("How do I change my password? ({n})", 0.35),
}
ROUTE_TAG = {"bug": "product_bug", "billing": "billing", "outage": "general_inquiry",
             "general": "general_inquiry"}
PRIORITY = {"outage": "urgent", "bug": "normal", "billing": "normal", "general": "normal"}
ENGINEER, ENGINEER_EVERY = "Dana Engineer", timedelta(minutes=40)
COPIED = "[zendesk] Found the cause; a fix is in review"  # the policy's marker: copied
NOT_COPIED = "Root cause: the session cache is never invalidated."  # never copied
# Tickets Zendesk serves malformed for a while: odd tags are read leniently, a missing or
# unreadable time is quarantined until the ticket is repaired (ZendeskTwin.corrupt_ticket).
MALFORMED_RATE = 0.04
CORRUPTIONS: tuple[dict[str, object], ...] = (
    {"tags": 5},
    {"remove": ("created_at",)},
    {"updated_at": "not a time", "tags": [7, None]},
)


# The escalation targets beside chat: an urgent ticket after hours also pages PagerDuty
# (again every 30 minutes, twice), mails the leads and posts through Slack's Web API.
ROOM = "C0CHAOS01"
TARGET_CHANNELS = {
    "pager": {"type": "pagerduty"},
    "mail": {"type": "email", "to": ["leads@acme.example"]},
    "room": {"type": "slack", "conversation": ROOM},
}
TARGETS_LADDER = {
    "id": "chaos-targets", "name": "chaos-targets",
    "when": {"after_hours": True, "priorities": ["urgent"]},
    "acknowledged_by": {"tags": ["oncall_ack"], "public_reply": True},
    "levels": [
        {"id": "pager", "after_minutes": 0, "until": "first_reply", "notify": "pager",
         "repeat_every_minutes": 30, "max_repeats": 2},
        {"id": "mail", "after_minutes": 0, "until": "first_reply", "notify": "mail"},
        {"id": "room", "after_minutes": 0, "until": "first_reply", "notify": "room"},
    ],
}


# The joins part: a share of the bug tickets is about a known issue (the policy's
# known_issues: entry, by its keyword), a share comes in outage-like groups of near-identical
# tickets (the first files, the rest join it by similarity while it is open), and the rest
# are each a problem of their own (random words: alike to nothing).
KNOWN_STATUS = "Exports fail for some accounts since 4.1; a fix is in progress."
SIMILAR_STATUS = "We are already working on a problem like yours."
KNOWN_BUG = ("Export crashes the app ({n})", "Export crashes the app ({n}). Please help.")
GROUPS = (
    ("Webhooks not delivered: error 500 ({n})", "None of our webhooks are delivered, error 500."),
    ("Search page is broken, results empty ({n})",
     "The search page shows no results at all, it looks broken."),
    ("Calendar sync throws an exception ({n})", "Syncing the calendar fails with an exception."),
    ("Mobile app crashes on start ({n})", "The mobile app crashes as soon as it starts."),
    ("Login with SSO gives an error ({n})", "Signing in with SSO fails with an error page."),
)
PROBLEM_SHARES = {"known": 0.3, "group": 0.35, "own": 0.35}


def file_known_issue(jira: JiraTwin, summary: str = "Exports crash the app since 4.1") -> str:
    """A known issue's Jira issue, filed by an engineer before the night; its key."""
    client = JIRA(server=jira.base_url, basic_auth=("dana@example.com", "x"),
                  options={"check_update": False}, max_retries=0, timeout=5)
    try:
        issue = client.create_issue(fields={
            "project": {"key": "ENG"}, "summary": summary, "issuetype": {"name": "Bug"},
            "labels": ["outage"]})
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return str(issue.key)


def joins_policy(path: Path, known: str) -> Path:
    """The policy at `path` with a known issue (`known`, by the keyword export) and
    similar_issues:, and the acknowledgement carrying {known_issue}; written back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["known_issues"] = [{"name": "export-crash", "jira": known, "status": KNOWN_STATUS,
                             "when": {"keywords": ["export"]}}]
    data["similar_issues"] = {"threshold": 71, "status": SIMILAR_STATUS}
    data["templates"]["after-hours-ack"] += "\n{known_issue}\n"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def bug_text(n: int, rng: random.Random) -> tuple[str, str, str]:
    """A bug ticket's problem ("known", "group-<k>" or "own"), subject and description."""
    problem = rng.choices(list(PROBLEM_SHARES), list(PROBLEM_SHARES.values()))[0]
    if problem == "known":
        subject, description = KNOWN_BUG
    elif problem == "group":
        k = rng.randrange(len(GROUPS))
        problem, (subject, description) = f"group-{k}", GROUPS[k]
        # Each customer quotes a reference of their own (an order, an account number).
        return problem, subject.format(n=10000 + n), description.format(n=10000 + n)
    else:
        words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(6, 9)))
                 for _ in range(3)]
        subject = " ".join(words).capitalize() + " crashes ({n})"
        description = f"Opening {' '.join(words)} gives a crash."
    return problem, subject.format(n=n), description.format(n=n)


def targets_policy(shipped: Path, out: Path) -> Path:
    """The shipped policy with the PagerDuty, e-mail and Slack Web API channels and the
    ladder that uses them, written to `out`."""
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    data["channels"].update(TARGET_CHANNELS)
    data["escalations"]["rules"].append(TARGETS_LADDER)
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


@dataclass(frozen=True)
class AgentEdit:
    """Something an agent did to a ticket that the daemon must never undo."""

    ticket_id: int
    field: str  # "tag" or "assignee_id"
    value: object


@dataclass
class Night:
    """The tickets and the agents' work of one night, as timed events on the twins."""

    zendesk: ZendeskTwin
    seed: int
    tickets: int
    kinds: dict[int, str] = field(default_factory=dict)
    edits: list[AgentEdit] = field(default_factory=list)
    corrupted: set[int] = field(default_factory=set)  # served malformed until repaired
    problems: dict[int, str] = field(default_factory=dict)  # bug ticket id -> its problem
    numbers: dict[int, int] = field(default_factory=dict)  # n (order of planning) -> ticket id
    # The sync-back part: engineers at work in Jira on the issues the daemon files.
    jira: JiraTwin | None = None
    steps: dict[str, int] = field(default_factory=dict)  # issue key -> engineer steps done
    _events: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)

    def plan(self) -> None:
        """Create the people and schedule every ticket and agent action of the night."""
        rng = random.Random(self.seed)
        z = self.zendesk
        for name in ("Support", "Finance", "Engineering", "Support Leads"):
            z.add_group(name)
        org = z.add_organization("Initech")["id"]
        customer = z.add_user("Bob Ortiz", "bob@initech.com", organization_id=org)["id"]
        self.agent = int(z.add_user("Sam Agent", "sam@acme.example", role="agent")["id"])
        if self.jira is not None:  # every 40 minutes, each issue filed moves one step on
            rounds = int((NIGHT - timedelta(hours=4)) / ENGINEER_EVERY)
            for n in range(1, rounds):
                self._at(START + n * ENGINEER_EVERY, self._engineer)
        names, weights = list(KINDS), [w for _, w in KINDS.values()]
        # Malformed tickets draw from their own source: the rest of the night stays the same.
        faults = random.Random(self.seed + 1)
        problems = random.Random(self.seed + 2)  # likewise the bugs' problems (joins)
        for n in range(self.tickets):
            at = START + ARRIVALS * rng.random()
            kind = rng.choices(names, weights)[0]
            text = bug_text(n, problems) if kind == "bug" else None
            self._at(at, self._filer(n, kind, customer, at, rng, text=text))
            if faults.random() < MALFORMED_RATE:
                corruption = faults.choice(CORRUPTIONS)
                # Just after filing (the daemon may or may not have read it yet); repaired
                # later in the night, or by repair_all before the morning.
                repair = at + timedelta(minutes=faults.uniform(20, 600))
                self._at(at + timedelta(seconds=1), lambda n=n, c=corruption, r=repair: (
                    self._corrupt(n, c, r)))

    def _corrupt(self, n: int, corruption: dict[str, object], repair: datetime) -> None:
        ticket_id = self.numbers[n]
        fields = {k: v for k, v in corruption.items() if k != "remove"}
        removed = corruption.get("remove", ())
        assert isinstance(removed, tuple)
        self.zendesk.corrupt_ticket(ticket_id, remove=removed, **fields)
        self.corrupted.add(ticket_id)
        self._at(repair, lambda: self.zendesk.repair_ticket(ticket_id))

    def repair_all(self) -> None:
        """Serve every corrupted ticket as it is again (before the morning's settling)."""
        for ticket_id in self.corrupted:
            self.zendesk.repair_ticket(ticket_id)

    def _filer(self, n: int, kind: str, customer: int, at: datetime,
               rng: random.Random, *, text: tuple[str, str, str] | None = None
               ) -> Callable[[], None]:
        # The agents' later moves are drawn now, so the night is the same for every run.
        reply = rng.random() < 0.4 and kind == "outage"
        reply_after = timedelta(minutes=rng.uniform(15, 50))
        solve = rng.random() < 0.3
        solve_after = timedelta(hours=rng.uniform(6, 20))
        tag = rng.random() < 0.25
        tag_after = timedelta(minutes=rng.uniform(1, 300))
        assign = rng.random() < 0.15
        assign_after = timedelta(minutes=rng.uniform(1, 300))

        def file() -> None:
            subject = KINDS[kind][0].format(n=n)
            problem, subject, description = text or ("", subject, f"{subject}. Please help.")
            ticket_id = int(self.zendesk.create_ticket(
                subject=subject, description=description, requester_id=customer,
                created_at=at)["id"])
            self.kinds[ticket_id] = kind
            if problem:
                self.problems[ticket_id] = problem
            self.numbers[n] = ticket_id
            if reply:
                self._at(at + reply_after, lambda: self.zendesk.add_comment(
                    ticket_id, "We are on it.", author_id=self.agent, public=True))
            if tag:
                self._at(at + tag_after, lambda: self._edit(
                    AgentEdit(ticket_id, "tag", f"agent_checked_{n}")))
            if assign:
                self._at(at + assign_after, lambda: self._edit(
                    AgentEdit(ticket_id, "assignee_id", self.agent)))
            if solve:
                self._at(at + solve_after, lambda: self.zendesk.agent_update(
                    ticket_id, status="solved", author_id=self.agent))

        return file

    def _engineer(self) -> None:
        """One round of engineering: In Progress; then a comment for support (copied) and one
        for the team (never copied); then every other issue is fixed in release 4.2."""
        assert self.jira is not None
        for issue in self.jira.issues():
            key = str(issue["key"])
            step = self.steps.get(key, 0)
            if step == 0:
                self.jira.transition(key, "In Progress", author=ENGINEER)
            elif step == 1:
                self.jira.add_comment(key, f"{COPIED} ({key})", author=ENGINEER)
                self.jira.add_comment(key, NOT_COPIED, author=ENGINEER)
            elif step == 2 and int(key.split("-")[1]) % 2 == 0:
                if not self.jira.versions_of("ENG"):
                    self.jira.add_version("ENG", "4.2", released=True)
                self.jira.set_fix_versions(key, ["4.2"], author=ENGINEER)
                self.jira.transition(key, "Done", author=ENGINEER)
            else:
                continue
            self.steps[key] = step + 1

    def _edit(self, edit: AgentEdit) -> None:
        if edit.field == "tag":
            self.zendesk.agent_update(edit.ticket_id, additional_tags=[edit.value],
                                      author_id=self.agent)
        else:
            self.zendesk.agent_update(edit.ticket_id, assignee_id=edit.value)
        self.edits.append(edit)

    def _at(self, when: datetime, event: Callable[[], None]) -> None:
        self._events.append((when, len(self._events), event))

    def fire_until(self, now: datetime, clock: ManualClock | None = None) -> None:
        """Run every event due by `now`, in time order. With the twins' `clock`, it is moved
        to each event's moment as it fires, then to `now`: a ticket filed at 18:02 must not
        appear after an export, read at 18:03 meanwhile, moved its cursor past 18:02 (real
        Zendesk stamps a ticket when it is written, never before a cursor it gave out)."""
        while True:
            due = sorted((e for e in self._events if e[0] <= now), key=lambda e: e[:2])
            if not due:
                break
            for event in due:
                self._events.remove(event)
                if clock is not None and event[0] > clock():
                    clock.set(event[0])
                event[2]()
        if clock is not None and now > clock():
            clock.set(now)


def turn_faults_on(zendesk: ZendeskTwin, jira: JiraTwin, chat: ChatTwin, seed: int) -> None:
    """Every failure the issue lists, on every endpoint the daemon uses."""
    for twin in (zendesk, jira, chat):
        twin.server.faults.reseed(seed)
    z, j, c = zendesk.server.faults, jira.server.faults, chat.server.faults
    # A 200 with an HTML page (a proxy, maintenance) on reads and writes alike.
    z.add(FaultRule("GET *", error_rate=0.03, reset_rate=0.02, rate_limit_rate=0.005,
                    storm_length=3, retry_after=1, latency=(0.0, 0.004), not_json_rate=0.01))
    z.add(FaultRule("PUT *", error_rate=0.04, error_status=502, reset_rate=0.03,
                    drop_after_commit_rate=0.06, not_json_rate=0.02))
    j.add(FaultRule("GET *", error_rate=0.03, reset_rate=0.02))
    j.add(FaultRule("POST *", error_rate=0.04, reset_rate=0.03, drop_after_commit_rate=0.08,
                    rate_limit_rate=0.01, storm_length=2, retry_after=1))
    c.add(FaultRule("POST *", error_rate=0.04, reset_rate=0.03, drop_after_commit_rate=0.06))


def turn_target_faults_on(pagerduty: PagerDutyTwin, slack: SlackApiTwin, seed: int) -> None:
    """The same failures on PagerDuty's events and Slack's Web API: answers lost after the
    event or the post landed among them, so only the dedup_key and the history lookup keep
    a repeat from being a second incident or message."""
    for twin in (pagerduty, slack):
        twin.server.faults.reseed(seed)
        twin.server.faults.add(FaultRule("*", error_rate=0.04, reset_rate=0.03,
                                         drop_after_commit_rate=0.06, rate_limit_rate=0.01,
                                         storm_length=2, retry_after=1))
