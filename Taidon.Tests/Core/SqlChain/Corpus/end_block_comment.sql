CREATE TABLE trail_block (id int);
SELECT id FROM trail_block WHERE id > 0 /* a comment on the same line */
/* then a block comment
   over lines; with a semicolon; inside */
/* and a /* nested */ one */
