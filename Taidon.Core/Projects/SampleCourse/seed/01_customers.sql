-- 10 000 customers. The data is computed, not random, so every run builds exactly the same database.
INSERT INTO categories (id, name) VALUES
    (1, 'Fiction'), (2, 'Science'), (3, 'History'), (4, 'Children'), (5, 'Cooking'),
    (6, 'Travel'), (7, 'Poetry'), (8, 'Computing'), (9, 'Art'), (10, 'Philosophy');

INSERT INTO customers (id, name, email, city, joined_on)
SELECT i,
       (ARRAY['Anna', 'Boris', 'Chen', 'Daria', 'Emil', 'Fatima', 'Gleb', 'Hana', 'Ivan', 'Julia'])[1 + i % 10]
           || ' ' || (ARRAY['Ivanova', 'Smith', 'Petrov', 'Garcia', 'Kim', 'Novak', 'Sokolov', 'Rossi', 'Weber', 'Tanaka', 'Orlova'])[1 + (i / 10) % 11],
       'customer' || i || '@example.org',
       (ARRAY['Moscow', 'Kazan', 'Novosibirsk', 'Yekaterinburg', 'Samara', 'Berlin', 'Paris', 'Riga'])[1 + (i * 7) % 8],
       date '2020-01-01' + (i * 37) % 1800
FROM generate_series(1, 10000) AS i;
