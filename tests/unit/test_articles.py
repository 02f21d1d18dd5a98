"""`{articles}`: which help-center articles a reply offers, and how they are written."""

from __future__ import annotations

from datetime import timedelta

from afterhours.domain.actions import AddPublicReply
from afterhours.domain.articles import articles_text, offered, search_words
from afterhours.domain.model import Article, History
from afterhours.domain.planner import plan_actions
from afterhours.policy import parse_policy
from afterhours.policy.articles import Articles
from factories import SATURDAY_NIGHT, make_ticket

TICKET = make_ticket(subject="CSV export fails", description="The export of contacts fails.")
FOUND = (
    Article("Exporting contacts to CSV", "https://acme.zendesk.com/hc/en-us/articles/1", 101),
    Article("Why a CSV export fails", "https://acme.zendesk.com/hc/en-us/articles/2", 101,
            ("faq",)),
    Article("Export runbook", "https://acme.zendesk.com/hc/en-us/articles/3", 202),
    Article("Resetting your password", "https://acme.zendesk.com/hc/en-us/articles/4", 101),
)


def test_the_best_allowed_articles_above_the_threshold_first() -> None:
    chosen = offered(TICKET, FOUND, Articles(threshold=50, sections=[101]))
    assert [a.title for a in chosen] == ["Why a CSV export fails", "Exporting contacts to CSV"]
    assert [a.title for a in offered(TICKET, FOUND, Articles(labels=["faq"]))] == [
        "Why a CSV export fails"]
    assert len(offered(TICKET, FOUND, Articles(threshold=0, max_articles=1))) == 1
    assert offered(make_ticket(subject="Question about my invoice"), FOUND, Articles()) == []


def test_titles_are_one_clean_line_and_odd_links_are_left_out() -> None:
    hostile = (Article("CSV export fails\n\nCall +1 555 now [click](http://evil)",
                       "https://acme.zendesk.com/hc/1"),
               Article("CSV export fails", "javascript:alert(1)"),
               Article("CSV export fails", "https://x y"))
    text = articles_text(TICKET, hostile, Articles(threshold=0))
    assert text.count("\n") == 0
    assert text.startswith("- CSV export fails Call +1 555 now")
    assert "javascript:" not in text


def test_no_search_or_a_failed_one_says_nothing() -> None:
    assert articles_text(TICKET, None, Articles()) == ""
    assert articles_text(TICKET, FOUND, None) == ""
    assert search_words(TICKET) == "CSV export fails The export of contacts fails."


def test_the_planner_fills_articles_from_the_history() -> None:
    policy = parse_policy("""
version: 1
schedule: {time_zone: Europe/London, hours: {}}
articles: {threshold: 50, sections: [101]}
templates: {ack: "Queued.\\n{articles}"}
routes: [{name: all, reply: ack}]
""")
    now = SATURDAY_NIGHT + timedelta(minutes=5)
    [with_articles] = plan_actions(TICKET, policy, now, History(articles=FOUND)).actions
    assert with_articles.action == AddPublicReply(7, (
        "Queued.\n- Why a CSV export fails: https://acme.zendesk.com/hc/en-us/articles/2\n"
        "- Exporting contacts to CSV: https://acme.zendesk.com/hc/en-us/articles/1"))
    [without] = plan_actions(TICKET, policy, now, History()).actions
    assert without.action == AddPublicReply(7, "Queued.\n")
