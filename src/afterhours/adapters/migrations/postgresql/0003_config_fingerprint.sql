-- The digests of the configuration parked actions depend on (afterhours/parking.py), which
-- 0001 left out.
CREATE TABLE config_fingerprint (part TEXT PRIMARY KEY, digest TEXT NOT NULL);
