-- Which tickets sync-back must look at again (adapters/state_watch.py): a ticket is marked in
-- the transaction that stores what can make it worth watching (its snapshot while linked, a
-- link, its baseline, a sync-back entry intended, an issue seen open again) and cleared once
-- sync-back found it settled, so a pass reads what changed, not every link. `mark` counts
-- the marks: a clear names the count it read, so a mark made meanwhile stays.
CREATE TABLE sync_dirty (ticket_id INTEGER PRIMARY KEY, mark INTEGER NOT NULL);
-- Every ticket the state already says is to be watched, and those with sync-back entries
-- still intended whatever their issues (settled as skipped when no plan holds them).
INSERT INTO sync_dirty (ticket_id, mark)
    SELECT DISTINCT l.ticket_id, 1 FROM sync_links l
    JOIN tickets t ON t.id = l.ticket_id
    LEFT JOIN sync_issues i ON i.issue_key = l.issue_key
    LEFT JOIN sync_tickets s ON s.ticket_id = l.ticket_id
    WHERE ((i.resolved IS NULL OR i.resolved = 0)
    AND (s.updated_at IS NULL OR s.updated_at <> t.updated_at))
    OR EXISTS (SELECT 1 FROM ledger g WHERE g.ticket_id = l.ticket_id
    AND g.status = 'intended' AND g.key LIKE 'sync:%');
