-- Batches on PostgreSQL: appending several ledger entries at once, and issuing a batch of
-- signed documents in one statement (the service's `IssueStatement`).
--
-- Before, each issuance was its own autocommit statement. Every one of them took the ledger row
-- lock and, with `synchronous_commit` on, held it through its own WAL flush: at 64 clients
-- the issuances queued one flush at a time. A node now gathers the issuances that are ready
-- while the previous batch runs and issues them here together: one lock, one commit, one
-- flush, one ledger state update and one root for the batch.

-- Appends entries in array order under the ledger row lock, keys known to be new (the UNIQUE
-- constraint is the backstop): the RFC 6962 stored hashes of each leaf and of every perfect
-- subtree it completes, the frontier carried from leaf to leaf, the root folded once at the
-- end. The same arithmetic as `travdoc_tlog::merkle::CompactRange::append_with` and `root`,
-- checked against it by the store suites, by `ledger::verify` (which recomputes every hash from
-- the entry bodies) and by `ledger::checkpoint` (which refuses to sign when the stored hashes
-- and the state row disagree). Returns the index of the first entry; the others follow it.
CREATE FUNCTION ledger_append_batch(
    p_keys TEXT[],
    p_kinds BIGINT[],
    p_created_at BIGINT[],
    p_leaves BYTEA[],
    p_bodies BYTEA[]
) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    v_count INTEGER := coalesce(cardinality(p_keys), 0);
    v_first BIGINT;
    v_size BIGINT;
    v_frontier BYTEA;
    v_leaf_hashes BYTEA[] := '{}';
    v_hashes BYTEA[] := '{}';
    v_hash_idx BIGINT[] := '{}';
    v_current BYTEA;
    v_base BIGINT;
    v_n BIGINT;
    v_k BIGINT;
    v_root BYTEA;
    v_at INTEGER;
BEGIN
    IF v_count = 0 OR cardinality(p_kinds) <> v_count OR cardinality(p_created_at) <> v_count
        OR cardinality(p_leaves) <> v_count OR cardinality(p_bodies) <> v_count THEN
        RAISE EXCEPTION 'ledger_append_batch: % keys, arrays of unequal length or empty', v_count;
    END IF;
    SELECT s.size, s.frontier INTO v_size, v_frontier
        FROM ledger_state s WHERE s.id = 0 FOR UPDATE;
    IF NOT FOUND OR v_size < 0
        OR octet_length(v_frontier) <> 32 * bit_count(v_size::bit(64)) THEN
        RAISE EXCEPTION 'ledger_state row is missing or malformed (frontier)';
    END IF;
    v_first := v_size;
    FOR v_i IN 1 .. v_count LOOP
        -- The leaf's stored hash, then one per perfect subtree it completes (a set low bit
        -- of the size before it each), merging the frontier's rightmost hashes as it goes.
        -- Stored hashes are numbered densely: a tree of n leaves has 2n - popcount(n).
        v_current := sha256('\x00'::bytea || p_leaves[v_i]);
        v_leaf_hashes := v_leaf_hashes || v_current;
        v_base := 2 * v_size - bit_count(v_size::bit(64));
        v_hashes := v_hashes || v_current;
        v_hash_idx := v_hash_idx || v_base;
        v_n := v_size;
        v_k := 1;
        WHILE v_n & 1 = 1 LOOP
            v_current := sha256('\x01'::bytea
                || substr(v_frontier, octet_length(v_frontier) - 31, 32) || v_current);
            v_frontier := substr(v_frontier, 1, octet_length(v_frontier) - 32);
            v_hashes := v_hashes || v_current;
            v_hash_idx := v_hash_idx || (v_base + v_k);
            v_k := v_k + 1;
            v_n := v_n >> 1;
        END LOOP;
        v_frontier := v_frontier || v_current;
        v_size := v_size + 1;
    END LOOP;

    -- The root: the frontier folded from the right.
    v_at := octet_length(v_frontier) - 31;
    v_root := substr(v_frontier, v_at, 32);
    v_at := v_at - 32;
    WHILE v_at >= 1 LOOP
        v_root := sha256('\x01'::bytea || substr(v_frontier, v_at, 32) || v_root);
        v_at := v_at - 32;
    END LOOP;

    INSERT INTO ledger_entry (idx, idempotency_key, kind, created_at, leaf, leaf_hash)
        SELECT v_first + u.o - 1, u.k, u.kind, u.t, u.leaf, u.h
        FROM unnest(p_keys, p_kinds, p_created_at, p_leaves, v_leaf_hashes)
            WITH ORDINALITY AS u(k, kind, t, leaf, h, o);
    INSERT INTO ledger_entry_body (idx, body)
        SELECT v_first + u.o - 1, u.body
        FROM unnest(p_bodies) WITH ORDINALITY AS u(body, o);
    INSERT INTO ledger_hash (idx, hash)
        SELECT u.i, u.h FROM unnest(v_hash_idx, v_hashes) AS u(i, h);
    UPDATE ledger_state SET size = v_size, root = v_root, frontier = v_frontier WHERE id = 0;
    RETURN v_first;
END;
$$;

-- The one-entry append of migration 0003, now a batch of one: one copy of the tree arithmetic
-- in SQL. Same signature and answers.
CREATE OR REPLACE FUNCTION ledger_append(
    p_key TEXT,
    p_kind BIGINT,
    p_created_at BIGINT,
    p_leaf BYTEA,
    p_body BYTEA,
    p_new BOOLEAN,
    OUT idx BIGINT,
    OUT leaf_hash BYTEA,
    OUT fresh BOOLEAN
) LANGUAGE plpgsql AS $$
BEGIN
    -- The lock first, so that the lookup and the append see the same log.
    PERFORM 1 FROM ledger_state s WHERE s.id = 0 FOR UPDATE;
    IF NOT p_new THEN
        SELECT e.idx, e.leaf_hash INTO idx, leaf_hash
            FROM ledger_entry e WHERE e.idempotency_key = p_key;
        IF FOUND THEN
            fresh := false;
            RETURN;
        END IF;
    END IF;
    idx := ledger_append_batch(ARRAY[p_key], ARRAY[p_kind], ARRAY[p_created_at],
        ARRAY[p_leaf], ARRAY[p_body]);
    leaf_hash := sha256('\x00'::bytea || p_leaf);
    fresh := true;
END;
$$;

-- One issuance of a batch, as the service sends it (bytes as hex text: the service's driver
-- binds scalars only, so a batch travels as one JSON array of these).
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
    response TEXT
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
    END IF;

    RETURN QUERY
        SELECT i.ord,
            CASE WHEN i.ord = ANY (v_moved) THEN 'issued' ELSE 'request_changed' END,
            v_first + array_position(v_moved, i.ord) - 1
        FROM unnest(v_items) AS i ORDER BY i.ord;
END;
$$;
