--
-- DML AND QUERIES
-- INSERT/UPDATE/DELETE/MERGE, upserts, CTEs (including recursive ones),
-- window functions, grouping sets, lateral joins and cursors.
--

CREATE TABLE employees (
    id          int PRIMARY KEY,
    name        text NOT NULL,
    manager_id  int REFERENCES employees (id),
    dept        text NOT NULL,
    salary      numeric(10,2) NOT NULL,
    hired       date NOT NULL
);

INSERT INTO employees VALUES
    (1, 'Alice',   NULL, 'exec',  250000, '2015-03-01'),
    (2, 'Bruno',   1,    'eng',   180000, '2016-07-15'),
    (3, 'Chen',    1,    'sales', 150000, '2017-01-09'),
    (4, 'Dana',    2,    'eng',   130000, '2019-11-30'),
    (5, 'Eli',     2,    'eng',   125000, '2020-02-29'),
    (6, 'Farah',   3,    'sales',  90000, '2021-05-05'),
    (7, 'Goran',   4,    'eng',   110000, '2022-08-08'),
    (8, 'Hiro',    6,    'sales',  70000, '2023-12-24');

-- recursive CTE: the management chain with depth and path
WITH RECURSIVE chain (id, name, depth, path) AS (
    SELECT id, name, 0, ARRAY[name]
      FROM employees
     WHERE manager_id IS NULL
    UNION ALL
    SELECT e.id, e.name, c.depth + 1, c.path || e.name
      FROM employees e
      JOIN chain c ON e.manager_id = c.id
)
SEARCH DEPTH FIRST BY name SET ordercol
SELECT repeat('  ', depth) || name AS org_chart, array_to_string(path, ' > ') AS path
  FROM chain
 ORDER BY ordercol;

-- recursive CTE without a table: a small series and a Fibonacci sequence
WITH RECURSIVE fib (n, a, b) AS (
    VALUES (1, 0::numeric, 1::numeric)
    UNION ALL
    SELECT n + 1, b, a + b FROM fib WHERE n < 15
)
SELECT n, a AS fib FROM fib;

-- window functions
SELECT name, dept, salary,
       rank()       OVER w AS dept_rank,
       dense_rank() OVER (ORDER BY salary DESC) AS overall,
       round(avg(salary) OVER (PARTITION BY dept), 2) AS dept_avg,
       salary - lag(salary) OVER w AS gap_to_next_higher,
       sum(salary) OVER (ORDER BY hired ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_payroll,
       first_value(name) OVER (PARTITION BY dept ORDER BY hired) AS first_hire,
       ntile(3) OVER (ORDER BY salary) AS tercile
  FROM employees
WINDOW w AS (PARTITION BY dept ORDER BY salary DESC)
 ORDER BY dept, dept_rank;

SELECT dept, count(*) FILTER (WHERE salary > 100000) AS well_paid,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) AS median,
       string_agg(name, ', ' ORDER BY name) AS names
  FROM employees
 GROUP BY dept
HAVING count(*) > 1
 ORDER BY dept;

-- grouping sets, rollup and cube
SELECT dept, extract(year FROM hired)::int AS year, count(*), sum(salary)
  FROM employees
 GROUP BY GROUPING SETS ((dept), (extract(year FROM hired)), ())
 ORDER BY dept NULLS LAST, year NULLS LAST;
SELECT dept, manager_id IS NULL AS is_top, count(*)
  FROM employees GROUP BY ROLLUP (dept, manager_id IS NULL) ORDER BY 1, 2;

-- lateral joins and correlated subqueries
SELECT m.name AS manager, r.name AS best_paid_report, r.salary
  FROM employees m
 CROSS JOIN LATERAL (
        SELECT name, salary FROM employees e
         WHERE e.manager_id = m.id
         ORDER BY salary DESC
         LIMIT 1) r
 ORDER BY m.id;
SELECT name FROM employees e
 WHERE salary > (SELECT avg(salary) FROM employees WHERE dept = e.dept)
   AND EXISTS (SELECT 1 FROM employees x WHERE x.manager_id = e.id)
 ORDER BY name;

-- upsert and RETURNING
CREATE TABLE salary_history (
    employee_id int PRIMARY KEY REFERENCES employees,
    previous    numeric(10,2),
    changed     int NOT NULL DEFAULT 1
);
INSERT INTO salary_history (employee_id, previous)
SELECT id, salary FROM employees WHERE dept = 'eng'
ON CONFLICT (employee_id) DO NOTHING
RETURNING employee_id;
INSERT INTO salary_history AS h (employee_id, previous) VALUES (2, 1), (3, 2)
ON CONFLICT (employee_id) DO UPDATE
   SET previous = EXCLUDED.previous, changed = h.changed + 1
 WHERE h.previous IS DISTINCT FROM EXCLUDED.previous
RETURNING h.*, (xmax = 0) AS inserted;

-- data-modifying CTEs
WITH raised AS (
    UPDATE employees SET salary = salary * 1.05
     WHERE dept = 'sales'
    RETURNING id, salary
)
SELECT count(*) AS raised, sum(salary) AS new_sales_payroll FROM raised;

-- UPDATE ... FROM and DELETE ... USING
UPDATE employees e SET manager_id = m.id
  FROM employees m
 WHERE m.name = 'Bruno' AND e.name = 'Goran'
RETURNING e.name, e.manager_id;
DELETE FROM salary_history s
 USING employees e
 WHERE s.employee_id = e.id AND e.hired > '2020-01-01'
RETURNING s.employee_id;

-- MERGE (new in PostgreSQL 15)
CREATE TABLE bonuses (employee_id int PRIMARY KEY, amount numeric(10,2));
INSERT INTO bonuses VALUES (1, 1000), (4, 500);
MERGE INTO bonuses b
USING (SELECT id, salary FROM employees WHERE dept IN ('eng', 'exec')) AS src
   ON b.employee_id = src.id
 WHEN MATCHED AND src.salary > 200000 THEN
      UPDATE SET amount = b.amount * 2
 WHEN MATCHED THEN
      DELETE
 WHEN NOT MATCHED THEN
      INSERT (employee_id, amount) VALUES (src.id, round(src.salary * 0.01, 2));
SELECT * FROM bonuses ORDER BY employee_id;

-- set operations, VALUES, TABLE, DISTINCT ON, FETCH FIRST WITH TIES
SELECT name FROM employees WHERE dept = 'eng'
UNION
SELECT name FROM employees WHERE salary > 140000
EXCEPT
SELECT 'Alice'
ORDER BY 1;
VALUES (1, 'one;'), (2, 'two'), (3, 'three') ORDER BY 1 DESC LIMIT 2;
TABLE bonuses;
SELECT DISTINCT ON (dept) dept, name, salary FROM employees ORDER BY dept, salary DESC;
SELECT name, salary FROM employees ORDER BY salary DESC FETCH FIRST 2 ROWS WITH TIES;

-- SELECT INTO, CREATE TABLE AS, EXPLAIN
SELECT id, name INTO TEMP eng_people FROM employees WHERE dept = 'eng';
CREATE TABLE payroll AS SELECT dept, sum(salary) AS total FROM employees GROUP BY dept;
EXPLAIN (COSTS OFF) SELECT * FROM employees WHERE id = 3;
SELECT (SELECT count(*) FROM eng_people) AS eng, (SELECT count(*) FROM payroll) AS depts;

-- cursors need a transaction block
BEGIN;
DECLARE emp_cur SCROLL CURSOR FOR SELECT id, name FROM employees ORDER BY id;
FETCH 2 FROM emp_cur;
FETCH PRIOR FROM emp_cur;
MOVE LAST IN emp_cur;
FETCH BACKWARD 2 FROM emp_cur;
CLOSE emp_cur;
COMMIT;

-- a foreign key violation (deliberate error)
DELETE FROM employees WHERE id = 1;
TRUNCATE bonuses, salary_history;
SELECT count(*) FROM bonuses;
