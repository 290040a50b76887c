--
-- NONSTANDARD STRINGS
-- With standard_conforming_strings = off, backslash is an escape character in
-- ordinary '...' literals.  psql re-reads the setting after every command,
-- but applies it only from the next input line on.
--

CREATE TABLE paths (
    id    int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label text NOT NULL,
    path  text
);

SHOW standard_conforming_strings;

-- standard mode: a backslash is just a character
INSERT INTO paths (label, path) VALUES ('std', 'C:\Program Files\');
SELECT path, length(path) FROM paths WHERE label = 'std';

SET escape_string_warning = off;
SET standard_conforming_strings = off;

-- from here on backslash escapes work in plain literals
INSERT INTO paths (label, path) VALUES ('escaped', 'C:\\Program Files\\');
INSERT INTO paths (label, path) VALUES ('quote', 'it\'s; still one literal');
INSERT INTO paths (label, path) VALUES ('doubled', 'it''s doubled');
INSERT INTO paths (label, path) VALUES ('mixed', 'O\'Reilly; O''Brien; \\server\\share');
SELECT 'tab\there' AS tab, 'new\nline' AS nl, '\x41\102' AS hex_octal;
SELECT '\'; SELECT 2; --' AS whole_thing_is_a_string;
SELECT 'a\\' AS ends_with_backslash; SELECT 'b' AS same_line;
SELECT '\\\'' AS backslash_quote, length('\\\\') AS two;
SELECT 'unknown \q escape' AS q_escape, '\/' AS slash;
SELECT 'first line \
second line' AS escaped_newline;
SELECT 'multi
line; with -- and /* inside \' quote
' AS multi_line;

-- escape strings and dollar quotes behave the same in both modes
SELECT E'E string \\ still fine' AS e_string, $$dollar \ untouched$$ AS dq;
SELECT $q$it\'s$q$ AS dollar_backslash, length($$\\$$) AS two_chars;
-- bit and hex strings do not care either
SELECT B'1001' # B'0110' AS xor_bits, X'0A' AS hex;
-- Unicode escape strings are rejected while the setting is off (deliberate error)
SELECT U&'\0041' AS not_allowed;

-- a comment with a backslash \' does not start anything
SELECT label, path FROM paths ORDER BY id;

UPDATE paths
   SET path = replace(path, '\\', '/')
 WHERE path LIKE '%\\\\%';
SELECT label, path FROM paths ORDER BY id;

-- LIKE patterns: the literal needs doubled backslashes to get one into the pattern
SELECT 'a_b' LIKE 'a\\_b' AS escaped_underscore, 'a%b' LIKE 'a\\%b' AS escaped_percent;

SET standard_conforming_strings = on;

-- standard again: a trailing backslash does not escape the quote
SELECT 'C:\' AS drive, 'back\slash' AS plain;
SELECT 'it''s' AS doubled, E'it\'s' AS escaped;
SELECT U&'\0041\0042' AS unicode_ok;

SET standard_conforming_strings TO off;
SELECT 'x\'y' AS apostrophe, 'semi\;colon' AS semi;

RESET standard_conforming_strings;
SELECT 'y\' AS after_reset;

SET standard_conforming_strings = 'off';
SELECT 'quoted setting value: \'off\'' AS quoted_value;
SET standard_conforming_strings = default;
SELECT 'default\' AS back_to_default;

-- The setting changes only on the next input line.  Here the SELECT is on the
-- same line as the SET, so psql still lexes it in standard mode and sends it
-- at the first semicolon; the server then rejects the literal (deliberate).
SET standard_conforming_strings = off; SELECT 'x\' AS y;
-- now off on this line
SELECT 'z\'s' AS z;
-- psql still lexes this line in "off" mode, so 'x\';' is one literal; the
-- server is in standard mode again and rejects it (deliberate error).
SET standard_conforming_strings = on; SELECT 'x\';' AS w;
SELECT 'on\' AS really_on;

-- multi-line statements that start before a mode change
SET standard_conforming_strings = off;
INSERT INTO paths (label, path)
VALUES ('share', '\\\\server\\share'),
       ('unix', '/usr/local/bin'),
       ('esc', 'a\tb');
RESET standard_conforming_strings;
SELECT label, path, position('\' in path) AS first_backslash
  FROM paths
 ORDER BY id;

-- functions whose bodies are plain literals follow the current mode too
SET standard_conforming_strings = off;
CREATE FUNCTION unescape_demo() RETURNS text LANGUAGE sql
    AS 'SELECT ''it\\''s a body''::text';
SELECT unescape_demo();
SET standard_conforming_strings = on;
CREATE FUNCTION standard_demo() RETURNS text LANGUAGE sql
    AS 'SELECT ''C:\dir\''::text';
SELECT standard_demo();
RESET escape_string_warning;
