-- The deadline index (afterhours/wakeups.py): when each open ticket is next to be planned
-- though nothing about it changes, in whole seconds since the epoch, rounded down; NULL when
-- only a change can make it due (a closed ticket, a plan with nothing left to wait for).
-- 0 is due at once: every ticket already here is planned once more, as is every one stored.
ALTER TABLE tickets ADD COLUMN wake_at BIGINT DEFAULT 0;
UPDATE tickets SET wake_at = NULL WHERE open = 0;
CREATE INDEX tickets_wake ON tickets(wake_at) WHERE wake_at IS NOT NULL;
-- A pass also plans every ticket with unsettled entries, closes out those on closed tickets
-- and counts the parked ones: each reads its own few rows, not the whole ledger.
CREATE INDEX ledger_intended ON ledger(ticket_id) WHERE status = 'intended';
CREATE INDEX ledger_failed ON ledger(ticket_id) WHERE status = 'failed';
