--
-- COPY FROM STDIN
-- Inline data follows the COPY statement and ends with a line containing
-- only a backslash and a period.  Data lines are not SQL: quotes, semicolons
-- and comment markers in them mean nothing.
--

CREATE TABLE people (
    id      int PRIMARY KEY,
    name    text NOT NULL,
    city    text,
    note    text
);

-- text format: tab-separated columns
COPY people (id, name, city, note) FROM STDIN;
1	Ann O'Neil	Zürich	likes; semicolons
2	Bob	Paris	-- not a comment
3	Cy	Oslo	/* not a comment either
4	Dee	Rome	$$ not a dollar quote
5	Eve	Kyiv	SELECT 1;
\.
SELECT id, name, city, note FROM people ORDER BY id;

-- text format with an explicit NULL marker and a custom delimiter
copy people from stdin with (delimiter '|', null 'NULL');
6|Fay|NULL|it's null city
7|Gus|Lima|NULL
\.
SELECT id, name, city IS NULL AS no_city, note IS NULL AS no_note FROM people WHERE id > 5 ORDER BY id;

-- a semicolon as the delimiter
COPY people (id, name, city)
    FROM STDIN
    WITH (DELIMITER ';');
8;Hal;Bern
9;Ida;Graz
\.

-- CSV with a header, quoted fields, embedded newlines and doubled quotes
CREATE TABLE products (
    sku         text PRIMARY KEY,
    title       text,
    price       numeric(10,2),
    description text
);
COPY products FROM STDIN WITH (FORMAT csv, HEADER true); -- a comment after the statement
sku,title,price,description
P-1,"Widget, large",19.99,"Has a comma, a ""quote"" and a semicolon;"
P-2,Gadget,5.00,"Spans
two lines; with -- and /* inside"
P-3,'single quotes',0.50,
P-4,"$$dollar$$",1.00,"E'escape'"
\.
SELECT sku, title, price, description FROM products ORDER BY sku;

-- CSV with HEADER MATCH, a custom quote character and a FORCE_NULL column
COPY products (sku, title, price, description) FROM STDIN
WITH (FORMAT csv, HEADER match, QUOTE '''', FORCE_NULL (description));
sku,title,price,description
P-5,'Comma, inside',2.50,''
P-6,'It''s quoted',3.75,'plain'
\.
SELECT sku, title, description IS NULL AS null_description FROM products WHERE sku IN ('P-5', 'P-6') ORDER BY sku;

-- an empty data section
COPY products FROM STDIN (FORMAT csv);
\.

-- COPY inside a transaction, with FREEZE on a table created in it
BEGIN;
CREATE TABLE frozen_codes (code int, label text);
COPY frozen_codes FROM STDIN WITH (FREEZE);
1	one
2	two; three
\.
COMMIT;
SELECT * FROM frozen_codes ORDER BY code;

-- COPY into a table with a trigger
CREATE TABLE copy_audit (sku text, seen_at_copy boolean);
CREATE FUNCTION copy_audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO copy_audit VALUES (NEW.sku, true);
    RETURN NEW;
END;
$$;
CREATE TRIGGER copy_audit_trg AFTER INSERT ON products FOR EACH ROW EXECUTE FUNCTION copy_audit_fn();
COPY products (sku, title, price) FROM STDIN (FORMAT csv);
T-1,triggered,1
T-2,"triggered, too",2
\.
SELECT * FROM copy_audit ORDER BY sku;

-- bad data: the server rejects the row, but psql still consumes every data
-- line up to the terminator (deliberate error)
COPY people (id, name) FROM STDIN;
10	Jo
eleven	Kim
\.
SELECT count(*) AS people_after_bad_copy FROM people;

-- COPY TO STDOUT needs no terminator
COPY (SELECT id, name FROM people WHERE id < 3 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER);
COPY products (sku, price) TO STDOUT;

-- two COPY statements back to back
COPY people (id, name, city) FROM STDIN WITH (FORMAT csv);
20,Lea,"Bonn"
\.
COPY people (id, name, city) FROM STDIN WITH (FORMAT csv);
21,Max,"Köln; Nord"
\.
SELECT id, name, city FROM people WHERE id >= 20 ORDER BY id;
