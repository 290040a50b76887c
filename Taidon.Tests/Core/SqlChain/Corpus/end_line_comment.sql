CREATE TABLE trail_line (id int);
INSERT INTO trail_line VALUES (1);
-- the last statement has no semicolon, and a comment follows it on its own line
SELECT count(*)
  FROM trail_line
-- the end, with no final newline