-- The applicant of every TTD request and passport application, in the forms the person checks
-- and the search compare (docs/checks.md): the NIC in its canonical 12-digit form, the name in
-- its MRZ transliteration (`PRIMARY<<SECONDARY`, so that accents and spellings of the same
-- letters meet), the birth date and sex, and the readmission case of a TTD. Written with the
-- request and rewritten when a returned request is corrected.
CREATE TABLE svc_request_people (
    request_id  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,      -- ttd | passport
    mission     TEXT,
    nic         TEXT,               -- canonical; none when absent or unreadable
    name_key    TEXT NOT NULL,
    birth_date  TEXT NOT NULL,      -- YYYY-MM-DD
    sex         TEXT NOT NULL,
    case_id     TEXT,
    previous_document TEXT,        -- the previous passport the request names
    created_at  TEXT NOT NULL
);
CREATE INDEX svc_request_people_nic ON svc_request_people (nic);
CREATE INDEX svc_request_people_name ON svc_request_people (name_key, birth_date);
CREATE INDEX svc_request_people_case ON svc_request_people (case_id);
