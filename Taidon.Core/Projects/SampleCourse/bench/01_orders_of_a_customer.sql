-- How fast is looking up one customer's orders? Run it as a benchmark to see the timing and the plan;
-- then try dropping orders_customer_idx in a copy of the project and compare.
SELECT o.id, o.ordered_at, t.total
FROM orders o
JOIN order_totals t ON t.order_id = o.id
WHERE o.customer_id = 42
ORDER BY o.ordered_at DESC;
