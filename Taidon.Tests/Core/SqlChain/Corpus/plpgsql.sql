--
-- PL/pgSQL
-- Functions, procedures, triggers and DO blocks whose dollar-quoted bodies
-- are full of semicolons, quotes and comments.
--

CREATE TABLE inventory (
    sku        text PRIMARY KEY,
    qty        int NOT NULL DEFAULT 0 CHECK (qty >= 0),
    updated_at timestamptz,
    updated_by text
);
CREATE TABLE inventory_history (
    id      bigserial PRIMARY KEY,
    sku     text,
    op      char(1),
    old_qty int,
    new_qty int
);

-- a trigger function with every TG_OP branch
CREATE OR REPLACE FUNCTION inventory_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO inventory_history (sku, op, new_qty) VALUES (NEW.sku, 'I', NEW.qty);
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.qty IS DISTINCT FROM OLD.qty THEN
            INSERT INTO inventory_history (sku, op, old_qty, new_qty)
            VALUES (NEW.sku, 'U', OLD.qty, NEW.qty);
        END IF;
        NEW.updated_at := now();
        NEW.updated_by = current_user;  -- '=' works as assignment too
        RETURN NEW;
    ELSE
        INSERT INTO inventory_history (sku, op, old_qty) VALUES (OLD.sku, 'D', OLD.qty);
        RETURN OLD;
    END IF;
END;
$$;

CREATE TRIGGER inventory_audit_trg
    BEFORE INSERT OR UPDATE OR DELETE ON inventory
    FOR EACH ROW EXECUTE FUNCTION inventory_audit();

INSERT INTO inventory (sku, qty) VALUES ('A-1', 10), ('B-2', 5), ('C;3', 0);
UPDATE inventory SET qty = qty + 1 WHERE sku <> 'C;3';
DELETE FROM inventory WHERE sku = 'C;3';
SELECT sku, op, old_qty, new_qty FROM inventory_history ORDER BY id;

-- a statement-level trigger with a transition table
CREATE FUNCTION report_changes() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
    n int;
BEGIN
    SELECT count(*) INTO n FROM changed_rows;
    RAISE NOTICE '% row(s) changed by %; table %', n, TG_OP, TG_TABLE_NAME;
    RETURN NULL;
END
$body$;
CREATE TRIGGER report_changes_trg
    AFTER UPDATE ON inventory
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_changes();
UPDATE inventory SET qty = qty * 2;

-- loops, records, exceptions and diagnostics
CREATE FUNCTION restock(p_min int, p_add int DEFAULT 5) RETURNS TABLE (sku text, added int)
LANGUAGE plpgsql AS $fn$
DECLARE
    r      record;
    n      int := 0;
    msg    text;
BEGIN
    FOR r IN SELECT i.sku, i.qty FROM inventory i WHERE i.qty < p_min ORDER BY i.sku LOOP
        BEGIN
            UPDATE inventory SET qty = qty + p_add WHERE inventory.sku = r.sku;
            GET DIAGNOSTICS n = ROW_COUNT;
            sku := r.sku;
            added := p_add * n;
            RETURN NEXT;
        EXCEPTION
            WHEN check_violation THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                RAISE WARNING 'skipped %: %', r.sku, msg;
        END;
    END LOOP;
    RETURN;
END;
$fn$;
SELECT * FROM restock(100);
SELECT * FROM restock(100, -1000);

-- an old-style body written as an ordinary string with doubled quotes
CREATE FUNCTION greet(name text) RETURNS text LANGUAGE plpgsql AS '
BEGIN
    -- it''s a comment inside a quoted body; with a semicolon
    RETURN ''Hello, '' || name || ''!'';
END;
';
SELECT greet('world'), greet('O''Hara');

-- FOREACH, arrays, CASE statement and assertions
CREATE FUNCTION summarize(vals int[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v     int;
    pos   int := 0;
    neg   int := 0;
BEGIN
    ASSERT vals IS NOT NULL, 'vals must not be null; got NULL';
    FOREACH v IN ARRAY vals LOOP
        CASE
            WHEN v > 0 THEN pos := pos + 1;
            WHEN v < 0 THEN neg := neg + 1;
            ELSE NULL;
        END CASE;
    END LOOP;
    RETURN format('%s positive; %s negative', pos, neg);
END
$$;
SELECT summarize(ARRAY[1, -2, 3, 0, -5]);

-- a procedure that commits inside its body
CREATE PROCEDURE batch_insert(p_n int)
LANGUAGE plpgsql AS $proc$
BEGIN
    FOR i IN 1..p_n LOOP
        INSERT INTO inventory (sku, qty) VALUES ('BATCH-' || i, i);
        IF i % 2 = 0 THEN
            COMMIT;
        ELSE
            ROLLBACK;
        END IF;
    END LOOP;
END;
$proc$;
CALL batch_insert(4);
SELECT sku, qty FROM inventory WHERE sku LIKE 'BATCH-%' ORDER BY sku;

-- DO blocks
DO $$
DECLARE
    total int;
BEGIN
    SELECT sum(qty) INTO total FROM inventory;
    RAISE NOTICE 'total quantity: %; rows: %', total, (SELECT count(*) FROM inventory);
END
$$;

DO $outer$
BEGIN
    EXECUTE $inner$
        CREATE FUNCTION dyn_double(x int) RETURNS int LANGUAGE plpgsql AS $f$
        BEGIN
            RETURN x * 2;  -- nested three levels deep
        END;
        $f$
    $inner$;
END
$outer$;
SELECT dyn_double(21);

DO LANGUAGE plpgsql $$
BEGIN
    PERFORM 1 / 0;
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught: %', SQLERRM;
END $$;

-- an uncaught exception (deliberate error)
DO $$ BEGIN RAISE EXCEPTION 'custom failure: %', 'semicolon; inside' USING HINT = 'it''s on purpose'; END $$;

-- an event trigger
CREATE FUNCTION note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'ddl command: %', tg_tag;
END;
$$;
CREATE EVENT TRIGGER note_ddl_trg ON ddl_command_end EXECUTE FUNCTION note_ddl();
CREATE TABLE after_event_trigger (id int);
DROP EVENT TRIGGER note_ddl_trg;

DROP TRIGGER report_changes_trg ON inventory;
DROP FUNCTION report_changes();
