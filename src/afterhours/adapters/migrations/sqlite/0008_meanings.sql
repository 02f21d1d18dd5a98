-- What ticket texts mean (similar_issues: matcher: meaning; afterhours/kept_meanings.py),
-- kept so a restarted daemon does not run the model again on every open issue's tickets.
-- A cache, never the truth: keyed by the model (`model`: its name, revision and weights'
-- SHA-256, so one model never reads another's vectors) and the SHA-256 of the exact text it
-- read; `meaning` is the model's float32s as it returned them. `used_at` (seconds since the
-- epoch, refreshed at most daily) is what pruning reads: a meaning unread for the policy's
-- within_days and a week more is dropped.
CREATE TABLE meanings (
    model TEXT NOT NULL, text_sha256 TEXT NOT NULL, meaning BLOB NOT NULL,
    used_at BIGINT NOT NULL, PRIMARY KEY (model, text_sha256));
CREATE INDEX meanings_used ON meanings(used_at);
