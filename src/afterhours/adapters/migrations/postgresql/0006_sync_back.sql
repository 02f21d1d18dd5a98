-- Sync-back (afterhours/syncback.py): which tickets hang off which Jira issues, and what was
-- last seen of each issue and ticket. The poll's watermark is a cursor row (jira.sync_watermark).
-- `since`: the moment (Jira's time) from which an issue's changes flow to the ticket; NULL:
-- all of them, for an issue afterhours filed for it. The issues afterhours filed before
-- this migration are adopted with `since` = now: their past does not flow back at once.
CREATE TABLE sync_links (
    issue_key TEXT NOT NULL, ticket_id BIGINT NOT NULL, source TEXT NOT NULL, since TEXT,
    created_at TEXT NOT NULL, PRIMARY KEY (issue_key, ticket_id));
CREATE INDEX sync_links_ticket ON sync_links(ticket_id);
INSERT INTO sync_links (issue_key, ticket_id, source, since, created_at)
    SELECT issue_key, ticket_id, 'filed', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'), created_at
    FROM jira_issues;
-- An issue as last seen: its `updated` (what a poll deduplicates on), whether it was resolved
-- (a resolved issue hears nothing of its tickets) and whether flows from it are unsettled
-- (`pending`: read again each pass until they are).
CREATE TABLE sync_issues (
    issue_key TEXT PRIMARY KEY, url TEXT NOT NULL, updated TEXT NOT NULL,
    resolved INTEGER NOT NULL, pending INTEGER NOT NULL, seen_at TEXT NOT NULL);
CREATE INDEX sync_issues_pending ON sync_issues(pending) WHERE pending = 1;
-- A ticket as last seen by sync-back: its events are what changed since. `updated_at` is its
-- snapshot's (tickets.updated_at) then: a pass looks again only at tickets stored since.
CREATE TABLE sync_tickets (
    ticket_id BIGINT PRIMARY KEY, status TEXT NOT NULL, solved_at TEXT,
    customer_update_at TEXT, updated_at TEXT, seen_at TEXT NOT NULL);
