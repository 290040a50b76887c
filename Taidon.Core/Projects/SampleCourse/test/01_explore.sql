-- Start here: look around. Run the whole script with Ctrl+Enter, or put the cursor on one statement
-- and press Ctrl+Shift+Enter to run just that one.
SELECT count(*) AS customers FROM customers;
SELECT count(*) AS orders, min(ordered_at) AS first, max(ordered_at) AS last FROM orders;
SELECT * FROM products ORDER BY id LIMIT 10;
SELECT status, count(*) FROM orders GROUP BY status ORDER BY count(*) DESC;
