-- Exercise 2. Revenue per month in 2025 (paid and shipped orders), oldest month first.
-- Columns: month (the first day of the month, a date) and revenue.
CREATE VIEW answer AS
SELECT date_trunc('month', t.ordered_at)::date AS month, sum(t.total) AS revenue
FROM order_totals t
WHERE t.status IN ('paid', 'shipped')
  AND t.ordered_at >= '2025-01-01' AND t.ordered_at < '2026-01-01'
GROUP BY 1
ORDER BY 1;

DO $$
BEGIN
    ASSERT (SELECT count(*) FROM answer) = 12, 'There are 12 months in 2025.';
    ASSERT (SELECT sum(revenue) FROM answer) = (
        SELECT sum(i.quantity * i.unit_price)
        FROM orders o JOIN order_items i ON i.order_id = o.id
        WHERE o.status IN ('paid', 'shipped') AND o.ordered_at >= '2025-01-01' AND o.ordered_at < '2026-01-01'),
        'The total over the year differs: check the status filter and the date range.';
END
$$;
