--
-- STRINGS
-- Standard string literals, escape strings, Unicode strings, bit and hex
-- strings, and string continuation.  Everything here runs with the default
-- standard_conforming_strings = on.
--

CREATE TABLE messages (
    id      serial PRIMARY KEY,
    author  text NOT NULL DEFAULT 'anonymous',
    body    text,
    note    text
);

-- doubled quotes inside ordinary literals
INSERT INTO messages (author, body) VALUES ('O''Brien', 'It''s a test');
INSERT INTO messages (author, body) VALUES ('''quoted''', '''''');
INSERT INTO messages (author, body) VALUES ('semi', 'a;b;c'), ('dash', 'not -- a comment');
INSERT INTO messages (author, body) VALUES ('slash', 'not /* a comment either */ ok'),
                                           ('star', '*/ stray close');
INSERT INTO messages (author, body) VALUES ('dollar', 'this $$ is not a dollar quote $$;');
INSERT INTO messages (author, body) VALUES ('tag', '$body$ also not; $body$');

-- a literal spanning several lines keeps its newlines
INSERT INTO messages (author, body) VALUES ('poet',
'Roses are red;
violets are blue;
-- this line is inside the string
/* and so is this one;
');

SELECT author, body FROM messages ORDER BY id;

-- backslashes are ordinary characters in standard strings
SELECT 'C:\temp\' AS windows_dir, length('\\') AS two_chars;
SELECT 'a\' AS ends_in_backslash; SELECT 'b' AS next_on_same_line;
SELECT '\n is two characters' AS not_a_newline;

-- string continuation: literals separated by whitespace containing a newline
SELECT 'foo'
'bar' AS foobar;
SELECT 'first;'
    'second;'
	'third' AS three_parts;
SELECT 'continued' -- a comment between the parts
'after comment' AS with_comment;
SELECT 'x'

'y' AS blank_line_between;

-- two literals on the same line are a syntax error (deliberate)
SELECT 'no' 'continuation';

-- escape strings
SELECT E'tab\there' AS tab, E'new\nline' AS newline;
SELECT E'it\'s' AS backslash_quote, E'it''s' AS doubled_quote;
SELECT E'back\\slash' AS one_backslash, E'\\' AS only_backslash;
SELECT E'ends with backslash\\' AS trailing; SELECT E'\\\'' AS backslash_then_quote;
SELECT E'\x41\x42\x43' AS hex_abc, E'\101\102\103' AS octal_abc, E'\7' AS bell;
SELECT E'caf\u00e9' AS cafe, E'\U0001F600' AS smiley, e'lower\tcase e' AS lower_e;
SELECT E'semi\;colon' AS escaped_semicolon, E'\'; SELECT 1; --' AS injection_attempt;
SELECT E'\b\f\r' IS NOT NULL AS control_chars;
-- (the continuation segment is escape-processed by the server, but psql lexes
-- each line afresh, so keep backslash-quote out of continuation segments)
SELECT E'first part\t'
'second part C:\dir' AS escape_continuation;
SELECT octet_length(E'\xe2\x82\xac') AS euro_bytes, E'\xe2\x82\xac' AS euro;

-- Unicode escape strings
SELECT U&'d\0061t\+000061' AS data;
SELECT U&'d!0061t!+000061' UESCAPE '!' AS data_bang;
SELECT U&'\0441\043B\043E\043D' AS slon, u&'lower \00e9' AS lower_u;
SELECT U&'wrong: \db99' AS bad_surrogate;
SELECT U&'semi;colon #0021' UESCAPE '#' AS bang_via_hash;
SELECT U&'a'
'b' AS unicode_continuation;

-- bit strings and hex strings
SELECT B'1010' AS four_bits, b'0001' | B'1000' AS bit_or, X'1F' AS hex, x'ff'::int AS hex_int;
SELECT B'101'
'010' AS six_bits;
SELECT X'DEAD'
'BEEF' AS dead_beef;
SELECT B'102' AS invalid_bit_string;

-- national character strings
SELECT N'national' AS n, n'lower n' AS n2, pg_typeof(N'x') AS ntype;

-- non-ASCII content
INSERT INTO messages (author, body) VALUES ('Zoë', 'Grüße aus Köln; ½ € ✓'),
    ('山田', 'こんにちは -- 世界');
SELECT author, body, length(body) FROM messages WHERE author IN ('Zoë', '山田') ORDER BY author;

-- casts and string functions mixing all of the above
SELECT 'abc'::varchar(2), 'a'::char(3) || '|', '2024-02-29'::date + 1 AS leap;
SELECT replace('a;b;c', ';', E'\n') AS lines, split_part('x--y--z', '--', 2) AS middle;
SELECT format('%s says %L', 'O''Neil', E'it\'s; fine') AS formatted;
SELECT quote_literal(E'back\\slash') AS ql, quote_ident('Mixed Case') AS qi;
SELECT string_agg(author, '; ' ORDER BY id) FROM messages WHERE author <> '';
SELECT 'a' || ';' || 'b' AS concat_semi, 'x' LIKE '%;%' AS no_semi;
SELECT regexp_replace('2024-01-02', '(\d+)-(\d+)-(\d+)', '\3/\2/\1') AS reordered;
SELECT '{"k": "v;w"}'::json ->> 'k' AS json_value;

UPDATE messages SET note = 'edited: ' || author || ';' WHERE body LIKE '%--%';
DELETE FROM messages WHERE body = '''''' RETURNING author, body;
SELECT count(*) AS remaining FROM messages;
