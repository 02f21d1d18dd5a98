-- Tickets Zendesk answered that cannot be read, held until one read parses
-- (afterhours/quarantine.py). IF NOT EXISTS: state files made before versioning may have it.
CREATE TABLE IF NOT EXISTS quarantine (
    ticket_id INTEGER PRIMARY KEY, first_seen TEXT NOT NULL, last_tried TEXT NOT NULL,
    attempts INTEGER NOT NULL, error TEXT NOT NULL);
