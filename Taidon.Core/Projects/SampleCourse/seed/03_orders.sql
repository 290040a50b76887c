-- 50 000 orders over two years, and 120 000 order lines.
INSERT INTO orders (id, customer_id, ordered_at, status)
SELECT i,
       1 + (i * 7919) % 10000,
       timestamptz '2024-01-01 00:00:00+00' + ((i::bigint * 104729) % (730 * 24 * 60)) * interval '1 minute',
       (ARRAY['paid', 'shipped', 'shipped', 'shipped', 'new', 'cancelled'])[1 + (i * 17) % 6]
FROM generate_series(1, 50000) AS i;

INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT o.id,
       1 + (o.id * 31 + line * 389) % 1000,
       1 + (o.id + line) % 3,
       p.price
FROM orders o
CROSS JOIN generate_series(1, 3) AS line
JOIN products p ON p.id = 1 + (o.id * 31 + line * 389) % 1000
WHERE line <= 1 + o.id % 3 OR (line = 3 AND o.id % 5 = 0);

ANALYZE;
