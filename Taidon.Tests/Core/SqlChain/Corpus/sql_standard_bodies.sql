--
-- SQL-STANDARD FUNCTION AND PROCEDURE BODIES
-- BEGIN ATOMIC ... END bodies contain semicolons that must not end the
-- CREATE statement; CASE ... END inside such a body must not end it early.
--

CREATE TABLE accounts (
    id       int PRIMARY KEY,
    owner    text NOT NULL,
    balance  numeric(12,2) NOT NULL DEFAULT 0,
    "end"    date,
    status   text NOT NULL DEFAULT 'open'
);
CREATE TABLE audit_log (
    id      bigint GENERATED ALWAYS AS IDENTITY,
    account int,
    action  text,
    amount  numeric(12,2)
);
INSERT INTO accounts (id, owner, balance) VALUES (1, 'ann', 100), (2, 'bob', 50), (3, 'cy', -5), (4, 'dee', -200);

-- RETURN form: no BEGIN, so no special tracking is needed
CREATE FUNCTION add_one(x int) RETURNS int LANGUAGE sql IMMUTABLE RETURN x + 1;
CREATE FUNCTION sign_label(x numeric) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN x < 0 THEN 'negative' WHEN x = 0 THEN 'zero' ELSE 'positive' END;
SELECT add_one(41), sign_label(-1), sign_label(0), sign_label(2);

-- BEGIN ATOMIC with a single statement
CREATE FUNCTION account_count() RETURNS bigint
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*) FROM accounts;
END;
SELECT account_count();

-- several statements, CASE at the top level of a statement inside the body
CREATE FUNCTION classify(p_id int) RETURNS text
    LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO audit_log (account, action) VALUES (p_id, 'classify; called');
    SELECT CASE
               WHEN balance < 0 THEN 'overdrawn'
               WHEN balance < 60 THEN 'low'
               ELSE 'healthy'
           END
      FROM accounts
     WHERE id = p_id;
END;
SELECT id, classify(id) FROM accounts ORDER BY id;

-- CREATE OR REPLACE, nested CASE, CASE inside parentheses, comments and strings
CREATE OR REPLACE FUNCTION classify(p_id int) RETURNS text
    LANGUAGE sql
BEGIN ATOMIC
    -- a line comment mentioning begin; and end;
    /* a block comment: BEGIN ATOMIC ... END; */
    INSERT INTO audit_log (account, action) VALUES (p_id, 'end; begin; case');
    SELECT CASE WHEN a.balance < 0
                THEN CASE WHEN a.balance < -100 THEN 'critical' ELSE 'overdrawn' END
                ELSE (CASE a.status WHEN 'open' THEN 'ok' ELSE 'closed' END)
           END || ' (' || a.owner || ')'
      FROM accounts AS a
     WHERE a.id = p_id;
END;
SELECT id, classify(id) FROM accounts ORDER BY id;

-- a procedure with several DML statements, called with named notation
CREATE PROCEDURE transfer(p_from int, p_to int, p_amount numeric)
    LANGUAGE sql
BEGIN ATOMIC
    UPDATE accounts SET balance = balance - p_amount WHERE id = p_from;
    UPDATE accounts SET balance = balance + p_amount WHERE id = p_to;
    INSERT INTO audit_log (account, action, amount)
        VALUES (p_from, 'debit', p_amount), (p_to, 'credit', p_amount);
END;
CALL transfer(1, 2, 25);
CALL transfer(p_from => 2, p_to => 3, p_amount => 10.5);
SELECT id, balance FROM accounts ORDER BY id;

-- mixed-case keywords and an ORDER BY CASE at paren depth zero
create or replace procedure close_negative()
language sql
Begin Atomic
    update accounts set status = case when balance < 0 then 'frozen' else status end;
    insert into audit_log (action)
        select 'frozen ' || owner from accounts where status = 'frozen'
         order by case when owner < 'm' then 0 else 1 end, owner;
End;
CALL close_negative();
SELECT owner, status FROM accounts ORDER BY id;

-- the header spread over several lines, with comments between the keywords
CREATE
    OR /* comment */ REPLACE
    -- line comment
    FUNCTION public.account_summary(p_owner text DEFAULT 'ann')
    RETURNS TABLE (owner text, balance numeric, ending date)
    LANGUAGE sql
    STABLE
BEGIN ATOMIC
    SELECT a.owner, a.balance, a."end"
      FROM accounts AS a
     WHERE a.owner = p_owner
       AND a.status <> 'end;';
END;
SELECT * FROM account_summary();
SELECT * FROM account_summary(p_owner => 'bob');

-- a body whose statements span many lines and include a CTE and subqueries
CREATE FUNCTION richest(n int) RETURNS SETOF text
    LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH ranked AS (
        SELECT owner,
               balance,
               rank() OVER (ORDER BY balance DESC) AS r
          FROM accounts
    )
    SELECT owner || ': ' || balance::text
      FROM ranked
     WHERE r <= n
     ORDER BY r, owner;
END;
SELECT richest(2);

-- a procedure whose body starts on the same line as BEGIN ATOMIC
CREATE PROCEDURE log_action(p_text text) LANGUAGE sql BEGIN ATOMIC INSERT INTO audit_log (action) VALUES (p_text); END;
CALL log_action('one-liner; with semicolon');
CREATE PROCEDURE noop() LANGUAGE sql BEGIN ATOMIC END;
CALL noop();

-- statements right after a body end on the same line
CREATE FUNCTION two() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 2; END; SELECT two() AS two;

-- body referencing a missing table: the whole CREATE is one statement and
-- fails as a unit (deliberate error)
CREATE FUNCTION broken() RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT 1;
    SELECT count(*) FROM no_such_table;
END;

-- the server keeps the body; show that it was parsed as a whole
SELECT proname, prosqlbody IS NOT NULL AS has_sql_body
  FROM pg_proc
 WHERE proname IN ('add_one', 'classify', 'transfer', 'close_negative', 'richest', 'log_action', 'noop', 'two')
 ORDER BY proname;
SELECT pg_get_functiondef('classify(int)'::regprocedure) LIKE '%BEGIN ATOMIC%' AS kept_atomic;

-- ordinary transaction control still splits normally afterwards
BEGIN;
CALL transfer(3, 1, 1);
SELECT classify(3);
END;
BEGIN TRANSACTION; SELECT account_count(); ROLLBACK;
SELECT action, amount FROM audit_log ORDER BY id;
