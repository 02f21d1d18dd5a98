-- The state's schema as it was before versioning (adapters/state.py's _SCHEMA, with the
-- ledger's attempts columns). IF NOT EXISTS: a state file made before versioning already has
-- these tables and is adopted as version 1 (its ledger gains the attempts columns first).
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY, open INTEGER NOT NULL, updated_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tickets_open ON tickets(open);
CREATE TABLE IF NOT EXISTS ledger (
    key TEXT PRIMARY KEY, ticket_id INTEGER NOT NULL, rule TEXT NOT NULL, action TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('intended', 'done', 'skipped', 'failed')),
    reason TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}', updated_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT);
CREATE INDEX IF NOT EXISTS ledger_ticket ON ledger(ticket_id);
CREATE TABLE IF NOT EXISTS jira_issues (
    ticket_id INTEGER PRIMARY KEY, issue_key TEXT NOT NULL, url TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, ticket_id INTEGER,
    key TEXT, rule TEXT, action TEXT, outcome TEXT NOT NULL, reason TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS audit_ticket ON audit(ticket_id);
