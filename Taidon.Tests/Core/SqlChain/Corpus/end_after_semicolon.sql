SELECT 1;
-- after the last semicolon only comments follow
/* a block comment; psql sends it on its own */
-- and a line comment at the very end