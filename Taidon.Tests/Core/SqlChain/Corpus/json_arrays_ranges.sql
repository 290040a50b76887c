--
-- JSON, ARRAYS AND RANGES
-- Literal-heavy queries: JSON documents in strings, jsonpath, array literals
-- with quotes and braces, range bounds and multiranges.
--

CREATE TABLE events (
    id      serial PRIMARY KEY,
    payload jsonb NOT NULL,
    tags    text[] NOT NULL DEFAULT '{}',
    during  tstzrange
);

INSERT INTO events (payload, tags, during) VALUES
    ('{"type": "login", "user": {"name": "ann", "roles": ["admin", "dev"]}, "ok": true}',
     '{auth,"with space","semi;colon"}',
     '[2024-01-01 10:00+00, 2024-01-01 11:00+00)'),
    ('{"type": "purchase", "user": {"name": "bob"}, "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}], "note": "it''s paid; thanks"}',
     ARRAY['billing', 'quote"inside', 'brace{'],
     tstzrange('2024-01-02 09:00+00', '2024-01-02 09:30+00', '[]')),
    (jsonb_build_object('type', 'logout', 'user', jsonb_build_object('name', 'ann'), 'reason', E'timeout\n(idle)'),
     '{}',
     NULL);

-- navigation operators
SELECT id, payload -> 'user' ->> 'name' AS user_name,
       payload #>> '{user,roles,0}' AS first_role,
       payload #> '{items}' -> 1 ->> 'sku' AS second_sku,
       payload['type'] AS subscripted_type
  FROM events ORDER BY id;

-- containment and existence
SELECT id FROM events WHERE payload @> '{"user": {"name": "ann"}}' ORDER BY id;
SELECT id FROM events WHERE '{"ok": true}' <@ payload;
SELECT id, payload ? 'items' AS has_items, payload ?| ARRAY['reason', 'note'] AS has_text,
       payload ?& ARRAY['type', 'user'] AS has_both
  FROM events ORDER BY id;

-- jsonpath: the dollar signs and at-signs live inside string literals
SELECT id, jsonb_path_query_array(payload, '$.items[*] ? (@.qty > 1).sku') AS big_items
  FROM events WHERE payload @? '$.items[*] ? (@.qty >= 1)';
SELECT jsonb_path_query(payload, '$.user.roles[last]') FROM events WHERE id = 1;
SELECT jsonb_path_exists(payload, '$ ? (@.type == $t)', '{"t": "logout"}') AS is_logout FROM events ORDER BY id;
SELECT payload @@ '$.ok == true' AS ok_flag FROM events ORDER BY id;

-- modification
UPDATE events SET payload = payload || '{"seen": true}' WHERE id = 1;
UPDATE events SET payload = jsonb_set(payload, '{user,name}', '"Bob; Jr."') WHERE id = 2;
UPDATE events SET payload = payload - 'reason' #- '{user,name}' WHERE id = 3;
SELECT id, payload FROM events ORDER BY id;

-- building and decomposing JSON
SELECT json_build_array(1, 'two; three', NULL, json_build_object('k', 'v')) AS built;
SELECT jsonb_agg(payload -> 'type' ORDER BY id) AS types, json_object_agg(id, tags) AS tags_by_id FROM events;
SELECT * FROM jsonb_to_recordset('[{"sku": "A", "qty": 2}, {"sku": "B;", "qty": 3}]') AS x(sku text, qty int);
SELECT key, value FROM jsonb_each_text('{"a": "1", "b": "it''s", "c": "--"}') ORDER BY key;
SELECT '{"nested": {"deep": [1, [2, [3]]]}}'::json #>> '{nested,deep,1,1,0}' AS three;
SELECT to_jsonb(e) - 'during' AS row_as_json FROM events e WHERE id = 2;

-- arrays: constructors, literals, slices and operators
SELECT ARRAY[1, 2, 3] || 4 AS appended, 0 || ARRAY[1, 2] AS prepended,
       ARRAY[[1, 2], [3, 4]] AS matrix, '{{a,b},{c,d}}'::text[] AS text_matrix;
SELECT tags, tags[1] AS first_tag, tags[1:2] AS first_two, array_length(tags, 1) AS n
  FROM events ORDER BY id;
SELECT (ARRAY['x', 'y', 'z'])[2:3] AS tail, (ARRAY[10, 20, 30])[2:] AS from_second;
SELECT ARRAY[1, 2, 3] @> ARRAY[2] AS contains, ARRAY[2] <@ ARRAY[1, 2] AS contained,
       ARRAY[1, 5] && ARRAY[5, 9] AS overlaps, ARRAY[1, 2] = '{1,2}' AS equal;
SELECT 3 = ANY (ARRAY[1, 2, 3]) AS any_match, 5 > ALL ('{1,2,3}'::int[]) AS all_less;
SELECT id, tag, ord FROM events, unnest(tags) WITH ORDINALITY AS t(tag, ord) ORDER BY id, ord;
SELECT array_agg(DISTINCT t ORDER BY t) FROM events, unnest(tags) AS t;
SELECT array_to_string(ARRAY['a', NULL, 'c'], ';', '*') AS joined, string_to_array('x;y;;z', ';') AS split;
SELECT '{"quoted \"elem\"", "comma, elem", NULL, "NULL"}'::text[] AS tricky_literal;
SELECT array_dims('[0:2]={7,8,9}'::int[]) AS dims, ('[0:2]={7,8,9}'::int[])[0] AS zeroth;
UPDATE events SET tags = array_append(tags, 'late;tag') WHERE cardinality(tags) = 0;
SELECT id, tags FROM events ORDER BY id;

-- ranges and multiranges
SELECT int4range(1, 10) @> 5 AS has_five, int4range(1, 10) && int4range(9, 20) AS overlap,
       numrange(1.5, 2.5, '[]') * numrange(2.0, 3.0) AS intersection,
       int4range(1, 5) + int4range(5, 9) AS merged, int4range(1, 5) -|- int4range(5, 7) AS adjacent;
SELECT '[2024-01-01, 2024-02-01)'::daterange AS jan, upper('[2024-01-01,2024-02-01)'::daterange) AS first_of_feb,
       isempty('empty'::int4range) AS empty, lower_inf('(,5]'::int4range) AS unbounded;
SELECT id, during, during @> '2024-01-01 10:30+00'::timestamptz AS at_half_past
  FROM events WHERE during IS NOT NULL ORDER BY id;
SELECT int4range(1, 5) << int4range(6, 9) AS strictly_left, int4range(1, 5) &< int4range(3, 9) AS not_right;
SELECT '{[1,3), [5,7)}'::int4multirange AS mr, '{[1,3), [5,7)}'::int4multirange @> 6 AS has_six;
SELECT range_agg(r) AS combined FROM (VALUES (int4range(1, 3)), (int4range(2, 6)), (int4range(8, 9))) v(r);
SELECT int4multirange(int4range(1, 10)) - int4multirange(int4range(3, 4)) AS holes;

-- a custom range type and an exclusion constraint
CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
SELECT '[1.234, 5.678]'::floatrange AS fr, floatrange(1, 2) @> 1.5::float8 AS inside;
CREATE TABLE room_bookings (
    room   text,
    slot   tsrange,
    EXCLUDE USING gist (slot WITH &&)
);
INSERT INTO room_bookings VALUES ('A', '[2024-05-01 09:00, 2024-05-01 10:00)');
INSERT INTO room_bookings VALUES ('B', '[2024-05-01 10:00, 2024-05-01 11:00)');
INSERT INTO room_bookings VALUES ('C', '[2024-05-01 09:30, 2024-05-01 10:30)');  -- deliberate error: overlaps
SELECT room, slot FROM room_bookings ORDER BY slot;
