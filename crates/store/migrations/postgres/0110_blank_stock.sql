-- Blank stock: secure blanks (numbered security paper) registered per document type and
-- location (a mission code, or HQ). A print reserves one blank, prints its serial on the
-- document, and uses it when the printer accepted the job; a failed job returns it. A reprint
-- spoils the blank of the print it replaces.
CREATE TABLE svc_blanks (
    serial      TEXT PRIMARY KEY,
    doc_type    TEXT NOT NULL,          -- ttd | passport | legalization
    location    TEXT NOT NULL,
    state       TEXT NOT NULL,          -- available | reserved | used | spoiled
    number      TEXT,                   -- the document printed on it
    job_id      TEXT,
    reason      TEXT,                   -- why it was spoiled
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX svc_blanks_pick ON svc_blanks (doc_type, location, state, serial);

ALTER TABLE svc_print_jobs ADD COLUMN blank_serial TEXT;
ALTER TABLE svc_print_jobs ADD COLUMN reprint_reason TEXT;
-- Which try this is for the document (1 for the first job, 2 after a failure or for a reprint).
ALTER TABLE svc_print_jobs ADD COLUMN attempt INTEGER;
