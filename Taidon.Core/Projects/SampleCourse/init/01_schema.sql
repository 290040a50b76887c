-- Taidon Books: a small online bookshop, the sample course's database.
-- init/ builds the schema; seed/ fills it; test/ holds the exercises and their checks; bench/ the timings.

CREATE TABLE customers (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    email       text NOT NULL UNIQUE,
    city        text NOT NULL,
    joined_on   date NOT NULL
);

CREATE TABLE categories (
    id    integer PRIMARY KEY,
    name  text NOT NULL UNIQUE
);

CREATE TABLE products (
    id           integer PRIMARY KEY,
    category_id  integer NOT NULL REFERENCES categories,
    title        text NOT NULL,
    price        numeric(8, 2) NOT NULL CHECK (price > 0),
    in_stock     integer NOT NULL CHECK (in_stock >= 0)
);

CREATE TABLE orders (
    id           integer PRIMARY KEY,
    customer_id  integer NOT NULL REFERENCES customers,
    ordered_at   timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('new', 'paid', 'shipped', 'cancelled'))
);

CREATE TABLE order_items (
    order_id    integer NOT NULL REFERENCES orders ON DELETE CASCADE,
    product_id  integer NOT NULL REFERENCES products,
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric(8, 2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);
CREATE INDEX order_items_product_idx ON order_items (product_id);
