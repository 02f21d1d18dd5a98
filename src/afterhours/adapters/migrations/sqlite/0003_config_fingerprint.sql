-- The digests of the configuration parked actions depend on (afterhours/parking.py), which
-- 0001 left out. IF NOT EXISTS: state files made before versioning already have it.
CREATE TABLE IF NOT EXISTS config_fingerprint (part TEXT PRIMARY KEY, digest TEXT NOT NULL);
