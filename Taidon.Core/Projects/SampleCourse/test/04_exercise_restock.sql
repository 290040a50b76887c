-- Exercise 3. Change data: the products with fewer than 5 copies in stock get 50 more.
-- Your UPDATE runs on your own copy of the database; rerunning this script starts again from the seed.
UPDATE products SET in_stock = in_stock + 50 WHERE in_stock < 5;

DO $$
BEGIN
    ASSERT NOT EXISTS (SELECT FROM products WHERE in_stock < 5), 'Some products still have fewer than 5 copies.';
END
$$;
