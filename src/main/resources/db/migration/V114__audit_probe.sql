-- Readiness probe (issue 12, finding 12): the audit store is ready only while it can write, so
-- readiness rewrites this row every few seconds with a payload about the size of a batch.
CREATE TABLE audit_probe (
    id        INTEGER NOT NULL PRIMARY KEY,
    probed_at TIMESTAMP WITH TIME ZONE NOT NULL,
    payload   TEXT
);
INSERT INTO audit_probe (id, probed_at, payload) VALUES (1, CURRENT_TIMESTAMP, NULL);
