--
-- PSQL QUIRKS
-- Cases where psql's statement splitting follows its own heuristics rather
-- than the server grammar.  Each section says what psql sends.
--

CREATE TABLE periods (id int PRIMARY KEY, begin date, "end" date, label text);
INSERT INTO periods VALUES (1, '2024-01-01', '2024-01-31', 'jan'), (2, '2024-02-01', '2024-02-29', 'feb');

-- 1. psql only watches BEGIN/CASE/END in statements that start with
--    CREATE [OR REPLACE] FUNCTION|PROCEDURE, and only outside parentheses.
--    Here the unquoted column "begin" is inside the parameter list and
--    the RETURNS TABLE list, so nothing is counted.
CREATE FUNCTION period_of(p_id int, begin date DEFAULT NULL)
    RETURNS TABLE (begin date, finish date)
    LANGUAGE sql STABLE
    AS $$ SELECT p.begin, p."end" FROM periods p WHERE p.id = p_id $$;
SELECT * FROM period_of(1);

-- statements that start with other words are never tracked
CREATE TABLE spans AS SELECT begin, "end", CASE WHEN begin < '2024-02-01' THEN 'early' ELSE 'late' END AS part FROM periods;
SELECT begin, part FROM spans ORDER BY begin;
CREATE OR REPLACE VIEW span_view AS SELECT begin, CASE WHEN part = 'early' THEN 1 ELSE 2 END AS n FROM spans;
CREATE FUNCTION noop_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE OR REPLACE TRIGGER spans_noop BEFORE INSERT ON spans FOR EACH ROW EXECUTE FUNCTION noop_trigger();

-- 2. An unquoted BEGIN at paren depth zero inside a CREATE FUNCTION statement
--    raises psql's BEGIN depth even though it is only a column alias.  The
--    END of the body brings the depth back to one, so psql keeps reading:
--    the CREATE FUNCTION, the SELECT and the END (a synonym for COMMIT) below
--    are sent to the server together as ONE query string.
CREATE FUNCTION first_begin() RETURNS date
    LANGUAGE sql
BEGIN ATOMIC
    SELECT min(p.begin) AS begin FROM periods p;
END;
SELECT 'sent together with the CREATE FUNCTION above' AS merged;
END;
SELECT first_begin() AS first_begin;

-- the same happens with a RETURN body that mentions a column called begin:
-- everything up to the next bare END is one query string
CREATE FUNCTION days_after(begin date) RETURNS int
    LANGUAGE sql IMMUTABLE
    RETURN current_date - begin;
SELECT days_after('2024-01-01') > 0 AS merged_too;
END;
SELECT 'split normally again' AS ok;

-- quoting the name avoids the effect
CREATE FUNCTION last_end() RETURNS date
    LANGUAGE sql
BEGIN ATOMIC
    SELECT max(p."end") AS "begin" FROM periods p;
END;
SELECT last_end() AS last_end;

-- 3. psql counts only parentheses, not square brackets: the semicolon below
--    ends the statement early and both halves fail (deliberate errors)
SELECT ARRAY[1;2];

-- 4. an unbalanced opening parenthesis keeps psql reading past semicolons,
--    so these two lines are sent as one statement (deliberate error)
SELECT (1;
SELECT 2);
SELECT 'balanced again' AS ok;

-- 5. psql scans each line separately, so a string continued on the next line
--    is lexed there as a new ordinary literal, while the server continues the
--    escape string.  psql splits at the semicolon after "\'"; the server
--    sees an unterminated literal (deliberate error).
SELECT E'escape string '
'continued \' AS quirk; SELECT 'next statement' AS tail;
-- without a backslash-quote in the continuation both agree
SELECT E'tab\t'
'plain' AS agreed;

-- 6. COPY FROM STDIN reads its data from the NEXT line; the rest of the COPY
--    line is executed after the data has been consumed
COPY periods (id, label) FROM STDIN; SELECT count(*) AS after_copy FROM periods;
3	mar
4	apr; may
\.

-- 7. standard_conforming_strings as psql sees it follows what the server
--    reports, however it was changed
SELECT set_config('standard_conforming_strings', 'off', false) AS via_function;
SELECT 'it\'s off; via set_config' AS escaped;
RESET ALL;
SELECT 'C:\' AS after_reset_all;
BEGIN;
SET LOCAL standard_conforming_strings = off;
SELECT 'it\'s local' AS local_setting;
ROLLBACK;
SELECT 'C:\' AS rolled_back_to_standard;
BEGIN;
SET standard_conforming_strings = off;
SELECT 1 / 0;  -- deliberate error: aborts the transaction and with it the SET
ROLLBACK;
SELECT 'C:\' AS still_standard;
SET standard_conforming_strings = maybe;  -- deliberate error: the mode stays as it was
SELECT 'C:\' AS unchanged;

-- 8. a block comment after the last statement is sent on its own at the end
--    of the file (the server answers with an empty query response)
DROP VIEW span_view;
/* trailing block comment */
