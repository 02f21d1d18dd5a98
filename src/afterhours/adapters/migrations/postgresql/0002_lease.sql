-- One active replica (adapters/lease.py): who holds the lease, until when on the database's
-- clock (seconds since the epoch), and the fencing token, raised on every takeover.
CREATE TABLE lease (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL);
