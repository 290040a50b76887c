--
-- LAYOUT
-- Whitespace and statement boundaries: many statements per line, statements
-- spread over many lines with blank lines, empty statements, tabs, trailing
-- whitespace, and a final statement without a semicolon.
--

CREATE TABLE t1 (a int, b text); CREATE TABLE t2 (a int, c text); INSERT INTO t1 VALUES (1, 'one');
INSERT INTO t1 VALUES (2, 'two');INSERT INTO t1 VALUES (3, 'three');SELECT count(*) FROM t1;
    SELECT 'leading spaces' AS indented;
		SELECT 'leading tabs' AS tabbed;	
SELECT 'trailing spaces after the semicolon' AS trailing;   
SELECT	'tabs'	AS	between_tokens;

-- empty statements
;
;;
SELECT 'after empty statements' AS ok;;
; SELECT 'after a leading semicolon' AS ok2;
SELECT 1 AS x; ; SELECT 2 AS y;

-- one statement over many lines, with blank lines inside


SELECT
    t1.a,

    t1.b,


    t2.c
FROM
    t1

    LEFT JOIN t2
        ON t2.a = t1.a

WHERE
    t1.a
    >
    0
ORDER BY
    t1.a
;

-- the semicolon alone on a later line
INSERT INTO t2 (a, c)
VALUES (1, 'uno'),
       (2, 'dos')

;
SELECT
1
AS
one
;

-- a statement that starts on the line where the previous one ends
SELECT 'first' AS f; SELECT 'second',
       'continues' AS s
  FROM t1 WHERE a = 1; SELECT 'third' AS t;

-- a long single line
SELECT a, b, a * 2 AS doubled, a * a AS squared, upper(b) AS shout, length(b) AS len, b || b AS twice, a + 100 AS shifted, md5(b) IS NOT NULL AS hashed, repeat('-', a) AS bar, coalesce(b, 'none') AS b_or_none FROM t1 WHERE a BETWEEN 1 AND 3 AND b IS NOT NULL ORDER BY a DESC, b ASC;

-- deeply indented DDL
        CREATE TABLE layout_demo (
                id      int     PRIMARY KEY,
                payload text    NOT NULL
                        DEFAULT 'x'
        )
        ;
	INSERT INTO layout_demo VALUES (1, 'a');	INSERT INTO layout_demo VALUES (2, 'b');

-- a transaction written on one line
BEGIN; UPDATE t1 SET b = b || '!' WHERE a = 1; SAVEPOINT s1; DELETE FROM t1; ROLLBACK TO SAVEPOINT s1; COMMIT;
SELECT a, b FROM t1 ORDER BY a;

-- keywords in unusual case and spacing
sElEcT   DiStInCt   a
  fRoM   t1
 wHeRe   a   <   3
 oRdEr   By   a   DeSc;

-- a statement that fails in the middle of a line; the rest of the line still runs
SELECT 1/0 AS boom; SELECT 'still running' AS after_error;

-- comments and whitespace only between statements
	
   
-- (the two lines above hold only whitespace)

DROP TABLE layout_demo;
-- the last statement has no semicolon
SELECT a, b
  FROM t1
 ORDER BY a
