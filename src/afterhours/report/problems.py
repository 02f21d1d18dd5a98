"""Jira issues filed (status and age) and the period's most repeated problems, by tags and by
similar subjects, for the product team. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from rapidfuzz import fuzz, process, utils

from afterhours.domain.model import Ticket
from afterhours.policy.model import Policy
from afterhours.report.model import Filed, Section, table

SIMILAR = 80  # token-set similarity (0-100) at which two subjects are one problem
TOP = 15  # problems listed
IDS_SHOWN = 10  # ticket ids listed per problem
NOT_READ = "not read"  # a Jira status the state does not hold


def jira_section(filed: Sequence[Filed], tickets: Mapping[int, Ticket], start: datetime,
                 end: datetime) -> Section:
    """The Jira issues filed in the period, with their status and age in days at `end`, and
    the tickets that joined a known issue instead of filing one (never counted as filed)."""
    period = [f for f in filed if start <= f.created_at <= end]
    joined = [f for f in period if f.joined]
    period = [f for f in period if not f.joined]
    statuses = Counter(f.status or NOT_READ for f in period)
    rows = [_issue_row(f, tickets, end) for f in period]
    joins = []
    for f in joined:
        key, _, ticket, status, jira = _issue_row(f, tickets, end)
        joins.append((ticket, key, status, jira, f.why))
    return Section(
        "jira", "Jira issues filed",
        (("issues filed", len(period)),
         ("their tickets still open", sum(1 for r in rows if r[3] not in _CLOSED)),
         ("tickets joined to a known issue", len(joined)),
         ("known issues joined", len({f.key for f in joined}))),
        (
            table("jira_issues", "Jira issues filed: age in days",
                  ("issue", "age days", "ticket", "ticket status", "Jira status"), rows,
                  note="Jira status: as sync-back last saw it (resolved or open); 'not read'"
                       " where it has not seen the issue (no sync_back: policy)."),
            table("jira_by_status", "Jira issues by status", ("status", "issues"),
                  sorted(statuses.items())),
            table("jira_joined", "Tickets joined to a known issue instead of filing",
                  ("ticket", "issue", "ticket status", "Jira status", "why"), joins,
                  chart="table",
                  note="Each ticket joined an issue already open (policy known_issues: or"
                       " similar_issues:); it is not among the issues filed. Why: the"
                       " planner's reason (the conditions met, or how alike, to which"
                       " issue's tickets). A wrong join is undone with afterhours unlink"
                       " TICKET ISSUE."),
        ),
    )


_CLOSED = ("solved", "closed", "deleted", "?")


def _issue_row(f: Filed, tickets: Mapping[int, Ticket], end: datetime
               ) -> tuple[str, float, int, str, str]:
    ticket = tickets.get(f.ticket_id)
    return (f.key, round((end - f.created_at).total_seconds() / 86400, 1), f.ticket_id,
            ticket.status if ticket is not None else "?", f.status or NOT_READ)


def own_tags(policy: Policy) -> frozenset[str]:
    """The tags the policy itself sets: categories of afterhours', not the customers' words."""
    found = {tag for block in (policy.priority_rules.rules, policy.routes.rules)
             for rule in block for tag in rule.tags}
    found |= {tag for ladder in policy.escalations.rules for level in ladder.levels
              for tag in level.tags}
    return frozenset(found)


def similar_subjects(tickets: Sequence[Ticket]) -> list[tuple[str, list[int]]]:
    """Subjects grouped by similarity (rapidfuzz's token-set ratio, case and punctuation
    aside): each group's first subject and its tickets, largest groups first."""
    names: list[str] = []
    keys: list[str] = []
    members: list[list[int]] = []
    for ticket in sorted(tickets, key=lambda t: t.id):
        key = utils.default_process(ticket.subject)
        if not key:
            continue
        found = process.extractOne(key, keys, scorer=fuzz.token_set_ratio,
                                   score_cutoff=SIMILAR, processor=None)
        if found is None:
            names.append(ticket.subject)
            keys.append(key)
            members.append([ticket.id])
        else:
            members[found[2]].append(ticket.id)
    groups = list(zip(names, members, strict=True))
    return sorted(groups, key=lambda g: (-len(g[1]), g[1][0]))


def problems_section(tickets: Sequence[Ticket], policy: Policy) -> Section:
    """The most repeated tags and subjects among the period's tickets."""
    ours = own_tags(policy)
    tags = Counter(tag for t in tickets for tag in t.tags)
    groups = similar_subjects(tickets)
    repeated = [g for g in groups if len(g[1]) > 1]
    return Section(
        "problems", "Most repeated problems",
        (("tickets", len(tickets)), ("subjects asked more than once", len(repeated))),
        (
            table("repeated_tags", "Most frequent tags", ("tag", "tickets", "set by afterhours"),
                  [(tag, n, "yes" if tag in ours or tag.startswith("jira_") else "no")
                   for tag, n in sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]]),
            table("similar_subjects", "Most repeated subjects", ("problem", "tickets", "ids"),
                  [(name, len(ids), " ".join(f"#{i}" for i in ids[:IDS_SHOWN]))
                   for name, ids in groups[:TOP]],
                  note=f"Subjects at least {SIMILAR}% alike (rapidfuzz token-set ratio) are one"
                  " problem, named by its first ticket's subject."),
        ),
    )
