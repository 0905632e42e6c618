-- The checks before issuance (docs/checks.md): each request keeps its hits and how each was
-- cleared, as a JSON array. A request with an uncleared hit is `on_hold`; the new states
-- `on_hold`, `returned` and `rejected` need no schema change (state is text).
ALTER TABLE svc_requests ADD COLUMN checks TEXT;
