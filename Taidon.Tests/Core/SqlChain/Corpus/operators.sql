--
-- OPERATORS
-- Built-in and user-defined operators, casts, named arguments, and operators
-- written without spaces next to comments, literals and dollar quotes.
--

-- arithmetic, bitwise and prefix operators
SELECT 7 + 3 AS plus, 7 - 3 AS minus, 7 * 3 AS times, 7 / 3 AS int_div, 7 % 3 AS modulo,
       2 ^ 10 AS power, |/ 25 AS sqrt, ||/ 27 AS cbrt, @ -5 AS abs, - -5 AS double_negation;
SELECT 12 & 10 AS bit_and, 12 | 10 AS bit_or, 12 # 10 AS bit_xor, ~ 12 AS bit_not,
       1 << 4 AS shl, 256 >> 2 AS shr;
SELECT 1+2*3-4/2 AS no_spaces, (1+2)*(3-4) AS parens, -2^2 AS neg_power, 2*-3 AS mul_neg;

-- comparisons written tightly
SELECT 1<2 AS lt, 2>1 AS gt, 1<=1 AS le, 1>=1 AS ge, 1<>2 AS ne, 1!=2 AS ne2, 1=1 AS eq;
SELECT 5 BETWEEN SYMMETRIC 10 AND 1 AS between_sym, NULL IS DISTINCT FROM 1 AS distinct_null,
       'abc' IS NOT NULL AND NOT false AS logic;

-- operators right next to comments
SELECT 1+-- a line comment right after the plus
2 AS three;
SELECT 2*/* a block comment right after the star */3 AS six;
SELECT 10-/* comment */-3 AS thirteen;
SELECT 8/-- comment after a slash
2 AS four;
SELECT 1--2
 AS one;
SELECT 4/**/-/**/1 AS three_again;
SELECT 'a'||/* glue */'b'||-- glue
'c' AS abc;

-- operators right next to literals, identifiers and dollar quotes
SELECT 'x'||$$y$$||$t$z$t$ AS xyz, 1::text||'1' AS eleven, $$5$$::int+1 AS six;
SELECT 'abc'~'^a' AS re, 'ABC'~*'^a' AS re_ci, 'abc'!~'^b' AS not_re, 'abc'!~*'^B' AS not_re_ci;
SELECT 'abc'~~'a%' AS like_op, 'abc'!~~'b%' AS not_like_op, 'abc'~~*'A%' AS ilike_op;

-- casts in all their spellings
SELECT '42'::int AS a, CAST('42' AS bigint) AS b, int4 '42' AS c, '1 day'::interval * 3 AS d,
       '2024-02-28'::date + 1 AS e, 3.7::numeric(3,1)::int AS f, 'true'::bool::int AS g,
       '{1,2}'::int[]::text[] AS h, (1.5)::text::numeric AS i;

-- schema-qualified operator syntax
SELECT 3 OPERATOR(pg_catalog.+) 4 AS qualified_plus, 3 OPERATOR(pg_catalog.<) 4 AS qualified_lt;

-- named arguments with => and the older :=
CREATE FUNCTION make_label(prefix text, n int DEFAULT 1, suffix text DEFAULT '') RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN prefix || '-' || n || suffix;
SELECT make_label('a') AS positional,
       make_label(prefix => 'b', n => 2) AS arrow,
       make_label(suffix => ';x', prefix => 'c') AS reordered,
       make_label('d', suffix := '!') AS colon_equals,
       make_label(prefix=>'e',n=>5) AS tight;

-- JSON, array and range operators
SELECT '{"a": {"b": [1, 2]}}'::jsonb->'a'->'b'->>1 AS json_chain,
       '{"a": {"b": [1, 2]}}'::jsonb#>>'{a,b,0}' AS json_path,
       '{"a": 1, "b": 2}'::jsonb@>'{"a": 1}' AS json_contains,
       '{"a": 1}'::jsonb<@'{"a": 1, "b": 2}' AS json_contained,
       '{"a": 1}'::jsonb||'{"c": 3}' AS json_concat,
       '{"a": 1, "b": 2}'::jsonb-'a' AS json_minus;
SELECT ARRAY[1,2]&&ARRAY[2,3] AS overlap, ARRAY[1]||ARRAY[2] AS cat, int4range(1,5)@>3 AS rng;

-- geometric, network and text search operators
SELECT point '(1,2)' <-> point '(4,6)' AS distance,
       box '((0,0),(2,2))' && box '((1,1),(3,3))' AS boxes_overlap,
       @@ box '((0,0),(2,2))' AS center,
       lseg '((0,0),(0,1))' ?|| lseg '((1,0),(1,2))' AS parallel, ?| lseg '((0,0),(0,2))' AS vertical;
SELECT inet '192.168.1.5' << inet '192.168.1.0/24' AS in_subnet,
       inet '10.0.0.0/8' >>= inet '10.1.2.3' AS contains_or_eq,
       inet '192.168.1.5' + 10 AS plus_ten;
SELECT to_tsvector('english', 'The quick brown foxes; jumped') @@ to_tsquery('english', 'fox & jump') AS matches,
       to_tsquery('english', 'cat') || to_tsquery('english', 'dog') AS either,
       !! to_tsquery('english', 'cat') AS negated;

-- user-defined operators
CREATE FUNCTION approx_eq(a numeric, b numeric) RETURNS boolean
    LANGUAGE sql IMMUTABLE RETURN abs(a - b) < 0.01;
CREATE OPERATOR === (
    LEFTARG = numeric,
    RIGHTARG = numeric,
    FUNCTION = approx_eq,
    COMMUTATOR = ===
);
CREATE FUNCTION text_repeat(t text, n int) RETURNS text
    LANGUAGE sql IMMUTABLE RETURN repeat(t, n);
CREATE OPERATOR public.*** (LEFTARG = text, RIGHTARG = int, PROCEDURE = text_repeat);
CREATE FUNCTION negate_text(t text) RETURNS text LANGUAGE sql IMMUTABLE RETURN reverse(t);
CREATE OPERATOR ~@ (RIGHTARG = text, FUNCTION = negate_text);
CREATE OPERATOR #+# (LEFTARG = int, RIGHTARG = int, FUNCTION = int4pl);

SELECT 1.001 === 1.002 AS close_enough, 1.0 === 2.0 AS not_close;
SELECT 'ab' *** 3 AS repeated, 'ab'***2 AS tight, ~@ 'stressed' AS reversed;
SELECT 2 #+# 3 AS custom_plus, 2#+#3 AS custom_tight, 1.001 OPERATOR(public.===) 1.0 AS qualified;
SELECT oprname, oprleft::regtype, oprright::regtype
  FROM pg_operator
 WHERE oprnamespace = 'public'::regnamespace
 ORDER BY oprname;

-- operator precedence puzzles
SELECT 2 + 3 * 4 AS a, (2 + 3) * 4 AS b, 2 * 3 ^ 2 AS c, -3 ^ 2 AS d, 10 - 2 - 3 AS e,
       2 ^ 3 ^ 2 AS f, (1 < 2) = true AS g, NOT 1 = 2 AS h;
-- an operator that does not exist (deliberate error)
SELECT 1 <~> 2;
-- a custom operator used with the wrong types (deliberate error)
SELECT 'a' #+# 'b';

DROP OPERATOR #+# (int, int);
DROP OPERATOR ~@ (NONE, text);
DROP OPERATOR public.*** (text, int);
DROP OPERATOR === (numeric, numeric);
