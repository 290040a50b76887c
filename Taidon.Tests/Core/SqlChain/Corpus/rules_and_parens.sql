--
-- RULES AND PARENTHESES
-- psql never ends a statement at a semicolon inside parentheses, which is
-- what makes multi-action rules work.  Parentheses inside literals and
-- comments do not count.
--

CREATE TABLE shoes (
    name    text PRIMARY KEY,
    colour  text NOT NULL,
    size    numeric(4,1) CHECK ((size > 0) AND (size < 60)),
    stock   int NOT NULL DEFAULT 0
);
CREATE TABLE shoe_log (
    name     text,
    action   text,
    old_val  int,
    new_val  int,
    log_user name DEFAULT current_user
);
CREATE TABLE counters (kind text PRIMARY KEY, n int NOT NULL DEFAULT 0);
INSERT INTO counters (kind) VALUES ('insert'), ('update'), ('delete');

-- a multi-action rule: both actions live inside one pair of parentheses
CREATE RULE shoes_upd AS ON UPDATE TO shoes
    WHERE NEW.stock <> OLD.stock
    DO ALSO (
        INSERT INTO shoe_log (name, action, old_val, new_val)
            VALUES (NEW.name, 'stock; changed', OLD.stock, NEW.stock);
        UPDATE counters SET n = n + 1 WHERE kind = 'update';
    );

CREATE RULE shoes_ins AS ON INSERT TO shoes DO ALSO (INSERT INTO shoe_log (name, action, new_val) VALUES (NEW.name, 'insert', NEW.stock); UPDATE counters SET n = n + 1 WHERE kind = 'insert');

CREATE RULE shoes_del AS ON DELETE TO shoes
    DO ALSO
    (
        -- a comment inside the action list; with a semicolon
        INSERT INTO shoe_log (name, action, old_val) VALUES (OLD.name, 'delete', OLD.stock);
        /* the second action ( with an unbalanced parenthesis in a comment */
        UPDATE counters SET n = n + 1 WHERE kind = 'delete';
        ;
    );

INSERT INTO shoes VALUES ('runner', 'blue', 42, 3), ('boot', 'brown', 44.5, 1);
UPDATE shoes SET stock = stock + 2 WHERE name = 'runner';
UPDATE shoes SET colour = 'black' WHERE name = 'boot';
DELETE FROM shoes WHERE name = 'boot';
SELECT name, action, old_val, new_val FROM shoe_log ORDER BY name, action;
SELECT kind, n FROM counters ORDER BY kind;

-- an updatable view implemented with INSTEAD rules
CREATE VIEW shoe_stock AS
    SELECT name, stock, (stock > 0) AS available FROM shoes;
CREATE RULE shoe_stock_ins AS ON INSERT TO shoe_stock DO INSTEAD (
    INSERT INTO shoes (name, colour, size, stock) VALUES (NEW.name, 'unknown (n/a)', 40, NEW.stock);
    INSERT INTO shoe_log (name, action) VALUES (NEW.name, 'via view: ")"');
);
CREATE RULE shoe_stock_upd AS ON UPDATE TO shoe_stock DO INSTEAD
    UPDATE shoes SET stock = NEW.stock WHERE name = OLD.name;
CREATE RULE shoe_stock_del AS ON DELETE TO shoe_stock DO INSTEAD NOTHING;

INSERT INTO shoe_stock (name, stock) VALUES ('sandal', 0);
UPDATE shoe_stock SET stock = 9 WHERE name = 'sandal';
DELETE FROM shoe_stock;
SELECT * FROM shoe_stock ORDER BY name;

-- a rule that raises a notification
CREATE RULE shoes_notify AS ON UPDATE TO shoes DO ALSO NOTIFY shoes_changed;
UPDATE shoes SET size = size WHERE name = 'runner';

SELECT rulename, ev_type FROM pg_rules JOIN pg_rewrite USING (rulename)
 WHERE tablename IN ('shoes', 'shoe_stock') ORDER BY rulename;

-- parentheses in ordinary statements, spread over many lines
SELECT s.name,
       (SELECT count(*)
          FROM shoe_log l
         WHERE l.name = s.name
           AND (l.action LIKE '%;%'
                OR l.action IN ('insert', 'delete', '(paren')
               )
       ) AS interesting_log_rows,
       ((s.stock + 1) * (2 - (s.size / 100)))::numeric(8,2) AS score
  FROM shoes s
 ORDER BY s.name;

SELECT (('a;b'));
SELECT concat('(', ';', ')') AS parens_in_strings, ')' AS close_only, '(' AS open_only;
SELECT format('%s', (SELECT string_agg(name, ';') FROM shoes)) AS names;
SELECT * FROM (VALUES (1, '(a'), (2, 'b)'), (3, ';')) AS v(id, txt) ORDER BY id;

-- a semicolon inside parentheses is not a split point for psql, so the server
-- receives the whole text and rejects it (deliberate error)
SELECT (1; 2);
-- an unmatched closing parenthesis does not change the depth (deliberate error)
SELECT 1);
SELECT 'next statement splits normally' AS ok;

-- a CTE whose parentheses span lines and contain a data-modifying statement
WITH bumped AS (
    UPDATE counters
       SET n = n + 10
     WHERE kind <> 'delete'
    RETURNING kind, n
), logged AS (
    INSERT INTO shoe_log (name, action, new_val)
    SELECT kind, 'bumped (cte)', n FROM bumped
    RETURNING name
)
SELECT count(*) AS bumped_rows FROM logged;

-- CREATE TABLE ... (LIKE ...) and partition bounds are parenthesised too
CREATE TABLE shoes_copy (LIKE shoes INCLUDING ALL, extra text DEFAULT ('x;y'));
INSERT INTO shoes_copy SELECT *, ';' FROM shoes;
SELECT name, extra FROM shoes_copy ORDER BY name;

DROP RULE shoes_notify ON shoes;
DROP VIEW shoe_stock;
