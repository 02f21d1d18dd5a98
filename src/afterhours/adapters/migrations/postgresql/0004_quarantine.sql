-- Tickets Zendesk answered that cannot be read, held until one read parses
-- (afterhours/quarantine.py).
CREATE TABLE quarantine (
    ticket_id BIGINT PRIMARY KEY, first_seen TEXT NOT NULL, last_tried TEXT NOT NULL,
    attempts INTEGER NOT NULL, error TEXT NOT NULL);
