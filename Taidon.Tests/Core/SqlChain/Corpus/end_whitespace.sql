CREATE TABLE trail_space (id int);
SELECT 1 AS one, 'two;' AS two

	  
   

