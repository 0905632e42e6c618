-- The index on ledger_entry.leaf_hash was written on every append (a B-tree insert at a random
-- position: most of the pages a group commit dirtied and wrote to the WAL) and read by nothing
-- on a hot path: entries are found by index (svc_documents.ledger_index) or idempotency key.
-- `ledger::find_by_leaf_hash` still works, by a scan.
DROP INDEX IF EXISTS ledger_entry_leaf_hash;
