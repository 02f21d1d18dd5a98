"""A realistic after-hours night on the twins, run in accelerated time.

Used by `afterhours demo` and by the end-to-end tests, so what the demo shows is what
the tests prove.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from afterhours.bootstrap import build_service
from afterhours.clock import ManualClock
from afterhours.demo.targets import TargetTwins
from afterhours.outcomes import PassReport
from afterhours.policy import Policy
from afterhours.retrying import RetryPolicy
from afterhours.service import Service
from afterhours.settings import Settings
from afterhours.twins.chat import ChatTwin
from afterhours.twins.jira import JiraTwin
from afterhours.twins.zendesk import ZendeskTwin

# Friday 20 November 2026, 16:00 in London (GMT, so UTC too): the desk closes at 17:30.
START = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
END = START + timedelta(hours=31)  # Saturday 23:00
STEP = timedelta(minutes=15)

GROUPS = ("Support", "Finance", "Engineering", "Support Leads")
ORGANIZATIONS = ("Globex", "Initech", "Umbrella")
PEOPLE = {  # name -> (email, organization)
    "Alice Chen": ("alice@globex.com", "Globex"),
    "Bob Ortiz": ("bob@initech.com", "Initech"),
    "Carol Diaz": ("carol@umbrella.io", "Umbrella"),
    "Dave Kim": ("dave@example.net", None),
    "Erin Walsh": ("erin@initech.com", "Initech"),
}


@dataclass(frozen=True)
class NewTicket:
    """A ticket a customer files at `at` after START."""

    name: str
    at: timedelta
    requester: str
    subject: str
    description: str


TICKETS = (
    NewTicket("daytime-invoice", timedelta(minutes=10), "Bob Ortiz",
              "Question about invoice #4411",
              "Hi, could you resend invoice 4411 to our accounts team? Thanks, Bob"),
    NewTicket("refund", timedelta(hours=2, minutes=20), "Bob Ortiz",
              "Refund for double charge",
              "We were charged twice for our November subscription. Please refund one payment."),
    NewTicket("bug", timedelta(hours=3, minutes=5), "Carol Diaz",
              "Export button crashes the app",
              "Clicking Export crashes the app with an exception.\n"
              "{noformat}<script>alert('x')</script>{noformat} [click|javascript:alert(1)]\n"
              "Steps: open Reports, press Export."),
    NewTicket("outage", timedelta(hours=6, minutes=40), "Alice Chen",
              "Production API is down",
              "Every request returns 503 since 22:30. This is a full outage for us."),
    NewTicket("password", timedelta(hours=9, minutes=15), "Dave Kim",
              "How do I change my password?",
              "I forgot my password and the reset mail never arrives."),
    NewTicket("security", timedelta(hours=11, minutes=30), "Erin Walsh",
              "Suspicious logins on our account",
              "Security concern: we see logins from IP addresses we do not know."),
)


@dataclass(frozen=True)
class Account:
    """What `seed_account` made: group and people ids by name, and the agent's id."""

    groups: dict[str, int]
    people: dict[str, int]
    agent: int


def seed_account(zendesk: ZendeskTwin, jira: JiraTwin) -> Account:
    """The sample account: GROUPS, ORGANIZATIONS, PEOPLE and an agent in Zendesk, the ENG
    project in Jira (the demo's, and `afterhours twins`')."""
    groups = {name: int(zendesk.add_group(name)["id"]) for name in GROUPS}
    orgs = {name: zendesk.add_organization(name)["id"] for name in ORGANIZATIONS}
    people = {
        name: int(zendesk.add_user(name, email, organization_id=orgs[org] if org else None)["id"])
        for name, (email, org) in PEOPLE.items()
    }
    agent = int(zendesk.add_user("Sam Agent", "sam@acme.example", role="agent")["id"])
    jira.add_project("ENG", "Engineering")
    return Account(groups, people, agent)


@dataclass
class DemoNight:
    """The twins, a manual clock and a daemon wired to them, for one night."""

    policy: Policy
    state_db: Path
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    # The daemon's secrets: tests run a night with known ones and look for them everywhere.
    zendesk_token: str = "demo-token"  # noqa: S105  (the twins take any token)
    jira_token: str = "demo-token"  # noqa: S105
    webhook_secret: str | None = None  # the last part of every webhook URL, as in Slack's
    zendesk: ZendeskTwin = field(init=False)
    jira: JiraTwin = field(init=False)
    chat: ChatTwin = field(init=False)
    targets: TargetTwins = field(init=False)  # PagerDuty, SMTP and Slack's Web API
    service: Service = field(init=False)
    ticket_ids: dict[str, int] = field(default_factory=dict)
    group_ids: dict[str, int] = field(default_factory=dict)
    reports: list[PassReport] = field(default_factory=list)
    _events: list[tuple[datetime, str, Callable[[], object]]] = field(default_factory=list)

    def __enter__(self) -> DemoNight:
        self.zendesk = ZendeskTwin(self.clock)
        self.jira = JiraTwin(self.clock)
        self.chat = ChatTwin(self.webhook_secret)
        for twin in (self.zendesk, self.jira, self.chat):
            twin.start()
        self.targets = TargetTwins(self.clock)
        self.targets.start(self.policy)
        self._seed()
        self.service = self.build_service()
        return self

    def __exit__(self, *exc: object) -> None:
        self.service.close()
        for twin in (self.zendesk, self.jira, self.chat):
            twin.stop()
        self.targets.stop()

    def restart(self) -> None:
        """Stop the daemon and start a new one on the same state file, as after a deploy."""
        self.service.close()
        self.service = self.build_service()

    def build_service(self) -> Service:
        """A daemon pointed at the twins, exactly as `afterhours run` builds one from settings."""
        settings = Settings(
            zendesk_url=self.zendesk.base_url,
            zendesk_email="bot@example.com",
            zendesk_token=SecretStr(self.zendesk_token),
            jira_url=self.jira.base_url,
            jira_email="bot@example.com",
            jira_token=SecretStr(self.jira_token),
            webhooks={name: SecretStr(self.chat.webhook_url(name))
                      for name, channel in self.policy.channels.items()
                      if channel.type == "webhook"},
            # Given, so that an AFTERHOURS_STATE_URL in the environment (production's,
            # say) is never the demo's state.
            state_url=SecretStr(f"sqlite:///{self.state_db}"),
            state_db=self.state_db,
            backfill_hours=1,
            **self.targets.settings(),
        )
        # Waits between retries pass on the manual clock, not in real time.
        retry = RetryPolicy(sleep=self.clock.sleep)
        return build_service(settings, self.policy, clock=self.clock, retry=retry)

    def _seed(self) -> None:
        account = seed_account(self.zendesk, self.jira)
        self.group_ids, people, agent = account.groups, account.people, account.agent
        for new in TICKETS:
            self.at(new.at, f"ticket {new.name} filed", self._filer(new, people[new.requester]))
        self.at(timedelta(hours=7, minutes=50), "on-call agent answers the outage",
                lambda: self.reply("outage", agent, "We are on it; status page updated."))
        self.at(timedelta(hours=11, minutes=55), "on-call agent answers the security ticket",
                lambda: self.reply("security", agent, "Locking the sessions now; call us."))
        self.at(timedelta(hours=17), "Finance solves the refund",
                lambda: self.zendesk.agent_update(self.ticket_ids["refund"], status="solved",
                                                  author_id=agent))

    def _filer(self, new: NewTicket, requester: int) -> Callable[[], None]:
        def file() -> None:
            created = self.zendesk.create_ticket(
                subject=new.subject, description=new.description, requester_id=requester,
                created_at=self.clock(),
            )
            self.ticket_ids[new.name] = int(created["id"])

        return file

    def reply(self, name: str, author: int, body: str) -> None:
        """A public reply by an agent: Zendesk counts it as the first reply."""
        self.zendesk.add_comment(self.ticket_ids[name], body, author_id=author, public=True)

    def at(self, offset: timedelta, what: str, event: Callable[[], object]) -> None:
        """Schedule `event` at START + `offset`."""
        self._events.append((START + offset, what, event))
        self._events.sort(key=lambda e: e[0])

    def run(self, until: datetime = END, step: timedelta = STEP) -> list[PassReport]:
        """Run a daemon pass every `step` until `until`, firing each event at its own time."""
        next_pass = self.clock()
        while next_pass <= until:
            while self._events and self._events[0][0] <= next_pass:
                when, _, event = self._events.pop(0)
                self.clock.set(max(when, self.clock()))
                event()
            self.clock.set(max(next_pass, self.clock()))
            self.reports.append(self.service.run_pass())
            next_pass += step
        return self.reports
