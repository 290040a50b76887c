-- 1 000 books in 10 categories.
INSERT INTO products (id, category_id, title, price, in_stock)
SELECT i,
       1 + i % 10,
       (ARRAY['The Quiet', 'A Brief', 'The Last', 'Notes on', 'Secrets of', 'The Art of', 'Lessons in', 'Letters from'])[1 + i % 8]
           || ' ' || (ARRAY['River', 'Algorithm', 'Empire', 'Garden', 'Kitchen', 'Journey', 'Winter', 'Machine', 'Canvas', 'Question'])[1 + (i / 8) % 10]
           || ' ' || i,
       round((5 + (i * 13) % 60 + ((i * 7) % 100) / 100.0)::numeric, 2),
       (i * 31) % 200
FROM generate_series(1, 1000) AS i;
