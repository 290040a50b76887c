--
-- COMMENTS
-- Line comments and (nested) block comments in every position: before
-- statements, between tokens, after semicolons and at the end of the file.
--

-- a line comment containing a semicolon; and a quote ' and a /* block start
-- another one with $$ and "double quotes
CREATE TABLE notes ( -- trailing comment after an open parenthesis
    id      int PRIMARY KEY, -- the key; not null implied
    title   text NOT NULL,   /* block comment; with a semicolon */
    body    text,            -- it's fine to have a quote here
    /* a block comment on its own line, 'quoted' and "double quoted" */
    created date DEFAULT '2024-01-01'
); -- comment after the semicolon

/* a block comment before a statement */
INSERT INTO notes (id, title) VALUES (1, 'first');
/* a block comment
   spanning lines;
   with semicolons; */ INSERT INTO notes (id, title) VALUES (2, 'second');

/* nested /* block */ comments are allowed; */ INSERT INTO notes (id, title) VALUES (3, 'nested');
/* level 1 /* level 2 /* level 3; */ back to 2 */ back to 1 -- still comment */
INSERT INTO notes (id, title) VALUES (4, 'deeply nested');

SELECT /* between tokens */ id, /* another; */ title
  FROM /* table: */ notes -- line comment between clauses
 WHERE id /* op follows */ < 3
 ORDER BY id; /* block comment after the semicolon */

SELECT 1; /* between two statements on one line */ SELECT 2;
SELECT 3; -- SELECT 4;
SELECT 5 -- the semicolon is on the next line
;
SELECT 6 /* the semicolon is inside a comment; */ ;
SELECT 7 AS seven -- comment right before the end of the statement
, 8 AS eight;

SELECT count(*)--no space before the comment
FROM notes;
SELECT 'a'/* no space */||'b' AS ab;
SELECT id/*a*/FROM/*b*/notes/*c*/WHERE/*d*/id=1;

-- comment markers inside literals and identifiers are not comments
SELECT '-- not a comment' AS a, '/* not a comment */' AS b, "title" AS "--c" FROM notes WHERE id = 1;
SELECT E'/* still a string \' -- */' AS c, $$-- dollar /* quoted */$$ AS d;

-- quotes inside comments do not start literals
/* it's a comment with an apostrophe */
SELECT 'after apostrophe comment' AS ok;
-- "double quote in a line comment
SELECT 'after double quote comment' AS ok;
/* $$ dollar quote in a block comment */
SELECT 'after dollar comment' AS ok;
/* -- line comment marker inside a block comment */
SELECT 'after marker comment' AS ok;
-- /* a block comment start inside a line comment does not open a block
SELECT 'after block start in line comment' AS ok;

-- comments inside a multi-line statement with blank lines

UPDATE notes
   -- set the body
   SET body = 'updated; twice',

       /* and the title */
       title = title || ' (edited)'

 -- only some rows
 WHERE id IN (1, /* two */ 2);

SELECT id, title, body FROM notes ORDER BY id;

-- comments in DDL that is rendered back by the server
CREATE VIEW recent_notes AS
    SELECT id, title -- the comment is not stored
      FROM notes
     WHERE created >= '2024-01-01' /* neither is this */;
SELECT pg_get_viewdef('recent_notes'::regclass) NOT LIKE '%comment%' AS comments_dropped;

-- COMMENT ON stores real comments
COMMENT ON TABLE notes IS 'Notes -- with markers /* inside */ and a semicolon;';
COMMENT ON COLUMN notes.body IS E'multi\nline; comment';
COMMENT ON VIEW recent_notes IS NULL;
SELECT obj_description('notes'::regclass, 'pg_class');

-- non-ASCII inside comments: ünïcödé — 日本語 /* ✓ */
SELECT 'ascii only' AS after_unicode_comment;

/*
 * A long block comment in the style of a file header.
 *
 *   SELECT 'this is not executed';
 *   DROP TABLE notes;
 */

SELECT count(*) AS still_four_rows FROM notes;

DELETE FROM notes -- remove
 WHERE id = 4 -- the deep one
RETURNING id; -- and show it

-- a block comment between statements is sent together with the next one
/* leading comment A */
/* leading comment B */
SELECT 'with two leading block comments' AS leading;

SELECT 'last statement' AS last;
/* the end */
-- really the end