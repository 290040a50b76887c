--
-- DOLLAR QUOTES
-- $$...$$, tagged quotes, nested tags, and positional parameters next to
-- dollar quotes.
--

SELECT $$plain$$ AS plain, $$$$ AS empty, $a$$a$ AS empty_tagged;
SELECT $$it's; -- not a comment /* nor this */ "nor an identifier"$$ AS body;
SELECT $$a;
b;

c;$$ AS multi_line_with_blank_lines;
SELECT $tag$contains $$ and $other$ and $ta$ and $tag $tag$ AS tricky;
SELECT $TAG$upper$tag$lower$TAG$ AS case_sensitive_tags;
SELECT $_$underscore tag$_$ AS u, $x1$digits in tag$x1$ AS d, $_1$mixed$_1$ AS m;
SELECT $ñ$non-ASCII tag; with semicolon$ñ$ AS n;
SELECT $$C:\temp\new$$ AS no_escapes, length($$\\$$) AS two;
SELECT 'a' || $$b$$ || $q$c$q$ AS abc, $$x$$=$$x$$ AS eq, upper($u$dq$u$);
-- a dollar sign that is not a quote
SELECT '$12.50'::money AS price, 'US$' || 5 AS label, 1 AS "$";

CREATE TABLE items (
    id    serial PRIMARY KEY,
    name  text NOT NULL,
    price numeric(10,2) NOT NULL CHECK (price >= 0),
    tags  text[] DEFAULT '{}'
);

INSERT INTO items (name, price, tags) VALUES
    ($$Bob's "best" widget$$, 9.99, ARRAY[$$a;b$$, $t$--c$t$]),
    ($n$gadget /* v2 */$n$, 19.50, '{x,y}'),
    ($$semi;colon$$, 0, ARRAY[]::text[]);

SELECT name, price, tags FROM items WHERE name <> $$$$ ORDER BY id;

-- positional parameters right next to dollar quotes
CREATE FUNCTION add_prices(numeric, numeric) RETURNS numeric
    LANGUAGE sql IMMUTABLE
    AS $$SELECT $1 + $2$$;
SELECT add_prices(1.5, 2.25);

CREATE FUNCTION label_item(int, text DEFAULT $d$ (n/a)$d$) RETURNS text
    LANGUAGE sql STABLE
AS $body$
    SELECT name || $2 || $sep$;$sep$ FROM items WHERE id = $1;
$body$;
SELECT label_item(1), label_item(2, $$ [on sale]$$);

PREPARE find_item(text, numeric) AS
    SELECT id, name FROM items WHERE name LIKE $1 AND price >= $2;
EXECUTE find_item($$%widget%$$, 1);
EXECUTE find_item('%;%', 0);
DEALLOCATE find_item;

-- nested different tags: a function that builds and runs dynamic SQL
CREATE FUNCTION count_matching(pattern text) RETURNS bigint
    LANGUAGE plpgsql
AS $fn$
DECLARE
    result bigint;
    q text := $q$SELECT count(*) FROM items WHERE name LIKE $1 -- param$q$;
BEGIN
    -- $$ inside a comment inside a dollar quote
    EXECUTE q INTO result USING pattern;
    RAISE NOTICE $msg$counted %; pattern was '%'$msg$, result, pattern;
    RETURN result;
END;
$fn$;
SELECT count_matching('%a%');

-- the same tag name cannot be nested, but a prefix of it can appear inside
CREATE FUNCTION show_tags() RETURNS text LANGUAGE sql
AS $abc$SELECT $ab$ $a $ $abcd$ text $ab$::text$abc$;
SELECT show_tags();

-- DO blocks with nested quoting
DO $do$
DECLARE
    stmt text;
BEGIN
    FOR i IN 1..3 LOOP
        stmt := format($f$INSERT INTO items (name, price) VALUES (%L, %s)$f$,
                       'generated ' || i || '; row', i * 1.5);
        EXECUTE stmt;
    END LOOP;
    EXECUTE $e$UPDATE items SET tags = tags || $x$generated$x$::text WHERE name LIKE 'generated%'$e$;
END
$do$;

DO $$
BEGIN
    PERFORM 1;  -- semicolons; inside; the body
    IF (SELECT count(*) FROM items) > 3 THEN
        RAISE NOTICE 'items: %', (SELECT string_agg(name, $s$, $s$ ORDER BY id) FROM items);
    END IF;
END $$;

DO LANGUAGE plpgsql $_$ BEGIN RAISE NOTICE 'a $__$ or $$ in here is not the end'; END $_$;

-- dollar quotes in utility statements
COMMENT ON TABLE items IS $$Items; "quoted" and 'quoted' -- all literal$$;
COMMENT ON FUNCTION add_prices(numeric, numeric) IS $c$adds $1 and $2$c$;
SELECT obj_description('items'::regclass, 'pg_class') AS table_comment;
SELECT obj_description('add_prices(numeric,numeric)'::regprocedure, 'pg_proc') AS fn_comment;

-- a dollar-quoted literal inside a view definition
CREATE VIEW item_labels AS
    SELECT id, name || $$ @ $$ || price::text AS label
      FROM items
     WHERE name NOT LIKE $p$%;%$p$;
SELECT * FROM item_labels ORDER BY id;

-- a body spanning many lines with quotes of every kind
CREATE FUNCTION describe(p_id int) RETURNS text
LANGUAGE plpgsql STABLE AS $describe$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM items WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN 'no item ' || p_id || '; sorry';
    END IF;
    /* block comment with $$ and ' and " inside */
    RETURN format('%s costs %s (%s)', r.name, r.price,
                  coalesce(array_to_string(r.tags, ';'), $$-$$));
END;
$describe$;
SELECT describe(1), describe(2), describe(99);

DROP FUNCTION describe(int), show_tags(), count_matching(text);
