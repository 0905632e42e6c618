-- A renewal or replacement cancels the previous passport in the same commit as its own
-- issuance (docs/checks.md): `issue_documents` of migration 0120 gains step 4, and its item
-- type the cancellation's fields. Everything else is as in 0120.
DROP FUNCTION issue_documents(JSONB);
DROP TYPE issue_item;

CREATE TYPE issue_item AS (
    ord INTEGER,
    number TEXT,
    kind TEXT,
    request_id TEXT,
    mission TEXT,
    valid_until TEXT,
    at TEXT,
    actor TEXT,
    mrz TEXT,
    seal TEXT,
    sod TEXT,
    payload TEXT,
    document_sha256 TEXT,
    event_id TEXT,
    action TEXT,
    leaf_sha256 TEXT,
    entry_key TEXT,
    entry_kind BIGINT,
    entry_time BIGINT,
    entry_leaf TEXT,
    entry_body TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    response TEXT,
    cancel_number TEXT,
    cancel_reason TEXT,
    cancel_event_id TEXT,
    cancel_action TEXT,
    cancel_leaf_sha256 TEXT,
    cancel_entry_key TEXT,
    cancel_entry_kind BIGINT,
    cancel_entry_time BIGINT,
    cancel_entry_leaf TEXT,
    cancel_entry_body TEXT
);

-- Issues a batch. Items are numbered from 1 in array order (`item_ord`).
-- 1. The requests move from approved to issued. An item whose request is not approved any
--    more (a concurrent issue of it won, in this batch or elsewhere) answers
--    `request_changed` and nothing of it is written: its number stays allocated, and the
--    caller voids it. A request named twice in the batch moves once.
-- 2. The numbers of the moved requests move from allocated to issued. When one is not
--    allocated (voided by a recovery pass meanwhile) the whole statement fails with SQLSTATE
--    TDN01, so that no request is issued without its number (the caller then runs the items
--    one by one).
-- 3. The ledger entries are appended in item order (`ledger_append_batch`), and the events,
--    the documents (with their entries' indexes) and the idempotent responses inserted.
CREATE FUNCTION issue_documents(p_items JSONB)
RETURNS TABLE (item_ord INTEGER, item_outcome TEXT, item_index BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_items issue_item[];
    v_moved INTEGER[];
    v_count BIGINT;
    v_first BIGINT;
    v_cancelled INTEGER[];
BEGIN
    SELECT array_agg(jsonb_populate_record(NULL::issue_item,
            e.item || jsonb_build_object('ord', e.ord)) ORDER BY e.ord)
        INTO v_items
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(item, ord);

    WITH moved AS (
        UPDATE svc_requests r
            SET state = 'issued', document_number = i.number, updated_at = i.at
            FROM unnest(v_items) AS i
            WHERE r.id = i.request_id AND r.state = 'approved'
            RETURNING i.ord
    )
    SELECT coalesce(array_agg(moved.ord ORDER BY moved.ord), '{}') INTO v_moved FROM moved;

    IF cardinality(v_moved) > 0 THEN
        UPDATE svc_document_numbers n
            SET state = 'issued', closed_at = i.at
            FROM unnest(v_items) AS i
            WHERE i.ord = ANY (v_moved) AND n.number = i.number AND n.state = 'allocated';
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count <> cardinality(v_moved) THEN
            RAISE EXCEPTION 'of % document numbers to issue, % were allocated',
                cardinality(v_moved), v_count USING ERRCODE = 'TDN01';
        END IF;

        SELECT ledger_append_batch(
                array_agg(i.entry_key ORDER BY i.ord),
                array_agg(i.entry_kind ORDER BY i.ord),
                array_agg(i.entry_time ORDER BY i.ord),
                array_agg(decode(i.entry_leaf, 'hex') ORDER BY i.ord),
                array_agg(decode(i.entry_body, 'hex') ORDER BY i.ord))
            INTO v_first
            FROM unnest(v_items) AS i WHERE i.ord = ANY (v_moved);

        INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256)
            SELECT i.event_id, i.at, i.actor, i.action, i.number, i.leaf_sha256
            FROM unnest(v_items) AS i WHERE i.ord = ANY (v_moved);
        INSERT INTO svc_documents (number, kind, request_id, mission, state, valid_until,
                issued_at, issued_by, mrz, seal, sod, payload, document_sha256, updated_at,
                ledger_index)
            SELECT i.number, i.kind, i.request_id, i.mission, 'issued', i.valid_until, i.at,
                i.actor, i.mrz, decode(i.seal, 'hex'), decode(i.sod, 'hex'), i.payload,
                i.document_sha256, i.at, v_first + array_position(v_moved, i.ord) - 1
            FROM unnest(v_items) AS i WHERE i.ord = ANY (v_moved);
        INSERT INTO svc_idempotency (actor_id, key, request_hash, status, response, created_at)
            SELECT i.actor, i.idempotency_key, i.request_hash, 200, i.response, i.at
            FROM unnest(v_items) AS i
            WHERE i.ord = ANY (v_moved) AND i.idempotency_key IS NOT NULL;

        -- 4. The previous passports the issued renewals cancel: revoked if still issued or
        --    printed, each with its event and its ledger entry after the issuances'.
        WITH cancelled AS (
            UPDATE svc_documents d
                SET state = 'revoked', state_reason = i.cancel_reason, updated_at = i.at
                FROM unnest(v_items) AS i
                WHERE i.ord = ANY (v_moved) AND i.cancel_number IS NOT NULL
                    AND d.number = i.cancel_number AND d.kind = 'passport'
                    AND d.state IN ('issued', 'printed')
                RETURNING i.ord
        )
        SELECT coalesce(array_agg(cancelled.ord ORDER BY cancelled.ord), '{}')
            INTO v_cancelled FROM cancelled;
        IF cardinality(v_cancelled) > 0 THEN
            PERFORM ledger_append_batch(
                    array_agg(i.cancel_entry_key ORDER BY i.ord),
                    array_agg(i.cancel_entry_kind ORDER BY i.ord),
                    array_agg(i.cancel_entry_time ORDER BY i.ord),
                    array_agg(decode(i.cancel_entry_leaf, 'hex') ORDER BY i.ord),
                    array_agg(decode(i.cancel_entry_body, 'hex') ORDER BY i.ord))
                FROM unnest(v_items) AS i WHERE i.ord = ANY (v_cancelled);
            INSERT INTO svc_events (id, at, actor_id, action, subject, leaf_sha256)
                SELECT i.cancel_event_id, i.at, i.actor, i.cancel_action, i.cancel_number,
                    i.cancel_leaf_sha256
                FROM unnest(v_items) AS i WHERE i.ord = ANY (v_cancelled);
        END IF;
    END IF;

    RETURN QUERY
        SELECT i.ord,
            CASE WHEN i.ord = ANY (v_moved) THEN 'issued' ELSE 'request_changed' END,
            v_first + array_position(v_moved, i.ord) - 1
        FROM unnest(v_items) AS i ORDER BY i.ord;
END;
$$;
