-- Exercise 1. The ten customers who spent the most on orders that were not cancelled.
-- Write the query inside the view (columns: customer_id, name, spent), then run the script.
-- The DO block at the end checks your answer: the script passes when it raises no error.
CREATE VIEW answer AS
SELECT c.id AS customer_id, c.name, sum(t.total) AS spent
FROM customers c
JOIN order_totals t ON t.customer_id = c.id
WHERE t.status <> 'cancelled'
GROUP BY c.id, c.name
ORDER BY spent DESC, c.id
LIMIT 10;

DO $$
DECLARE
    expected numeric[] := ARRAY(
        SELECT sum(i.quantity * i.unit_price)
        FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.status <> 'cancelled'
        GROUP BY o.customer_id
        ORDER BY 1 DESC, o.customer_id
        LIMIT 10);
BEGIN
    ASSERT (SELECT count(*) FROM answer) = 10, 'The answer should have 10 rows.';
    ASSERT ARRAY(SELECT spent FROM answer) = expected,
        'The amounts differ from the expected ones: check the join and the filter on status.';
END
$$;
