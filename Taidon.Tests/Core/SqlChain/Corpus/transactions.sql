--
-- TRANSACTIONS
-- BEGIN/COMMIT/ROLLBACK in their various spellings, savepoints, error
-- recovery inside a transaction block, and transaction-scoped settings.
--

CREATE TABLE ledger (
    id      int PRIMARY KEY,
    account text NOT NULL,
    amount  numeric(10,2) NOT NULL CHECK (amount <> 0),
    memo    text
);
CREATE TABLE ledger_totals (
    account text NOT NULL,
    total   numeric(12,2) NOT NULL,
    CONSTRAINT totals_account_key UNIQUE (account) DEFERRABLE INITIALLY IMMEDIATE
);

BEGIN;
INSERT INTO ledger VALUES (1, 'cash', 100, 'opening balance; cash');
INSERT INTO ledger VALUES (2, 'bank', 250, 'opening balance; bank');
COMMIT;

-- rolled back work leaves nothing behind
BEGIN WORK;
INSERT INTO ledger VALUES (3, 'cash', -20, 'coffee');
DELETE FROM ledger WHERE id = 1;
ROLLBACK WORK;
SELECT id, account, amount FROM ledger ORDER BY id;

-- savepoints: release one, roll back to another
START TRANSACTION;
INSERT INTO ledger VALUES (3, 'cash', -20, 'coffee');
SAVEPOINT before_rent;
INSERT INTO ledger VALUES (4, 'bank', -900, 'rent');
SAVEPOINT before_typo;
UPDATE ledger SET memo = 'rnet' WHERE id = 4;
ROLLBACK TO SAVEPOINT before_typo;
RELEASE SAVEPOINT before_rent;
SAVEPOINT "quoted; savepoint";
INSERT INTO ledger VALUES (5, 'cash', -5, 'tip');
ROLLBACK TO "quoted; savepoint";
COMMIT;
SELECT id, account, amount, memo FROM ledger ORDER BY id;

-- an error inside a transaction block, recovered with a savepoint
BEGIN;
SAVEPOINT sp;
INSERT INTO ledger VALUES (6, 'cash', 0, 'zero amount');  -- deliberate error: check constraint
ROLLBACK TO sp;
INSERT INTO ledger VALUES (6, 'cash', 1, 'one instead');
COMMIT;

-- an error without a savepoint aborts the block; the next command is rejected too
BEGIN;
INSERT INTO ledger VALUES (1, 'cash', 1, 'duplicate key');  -- deliberate error: duplicate key
SELECT 'this is rejected' AS rejected;                      -- deliberate error: transaction aborted
ROLLBACK;

-- isolation levels, access modes and SET TRANSACTION
BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY;
SELECT sum(amount) AS balance FROM ledger;
SHOW transaction_isolation;
COMMIT;
START TRANSACTION;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT current_setting('transaction_isolation') AS level;
SET LOCAL statement_timeout = '5s';
SET LOCAL search_path = pg_catalog, public;
SELECT current_setting('statement_timeout') AS timeout_inside;
END;
SELECT current_setting('statement_timeout') AS timeout_after;

-- deferred constraint checking
BEGIN;
SET CONSTRAINTS totals_account_key DEFERRED;
INSERT INTO ledger_totals VALUES ('cash', 1), ('cash', 2);
DELETE FROM ledger_totals WHERE account = 'cash' AND total = 2;
UPDATE ledger_totals SET total = (SELECT sum(amount) FROM ledger WHERE account = 'cash') WHERE account = 'cash';
COMMIT;
SELECT * FROM ledger_totals;

-- COMMIT AND CHAIN keeps the transaction characteristics
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO ledger VALUES (7, 'bank', 42, 'chained 1');
COMMIT AND CHAIN;
SHOW transaction_isolation;
INSERT INTO ledger VALUES (8, 'bank', 43, 'chained 2');
ROLLBACK AND NO CHAIN;

-- locking
BEGIN;
LOCK TABLE ledger IN SHARE ROW EXCLUSIVE MODE;
SELECT id FROM ledger WHERE account = 'bank' ORDER BY id FOR UPDATE;
SELECT pg_try_advisory_xact_lock(42) AS got_lock;
ABORT;

-- transaction control mixed with functions and DO blocks
BEGIN;
CREATE FUNCTION ledger_balance(acct text) RETURNS numeric LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(sum(amount), 0) FROM ledger WHERE account = acct;
END;
DO $$
BEGIN
    IF ledger_balance('cash') < 0 THEN
        RAISE EXCEPTION 'cash is negative; stop';
    END IF;
END
$$;
SELECT ledger_balance('cash') AS cash, ledger_balance('bank') AS bank;
COMMIT;

-- COMMIT outside a transaction only warns
COMMIT;
ROLLBACK;

-- two-phase commit is disabled by default (deliberate error)
BEGIN;
INSERT INTO ledger VALUES (9, 'cash', 9, 'two-phase');
PREPARE TRANSACTION 'ledger-9';
SELECT count(*) AS rows_after_failed_prepare FROM ledger WHERE id = 9;

SELECT txid_current_if_assigned() IS NULL AS no_xid_yet, pg_current_xact_id() IS NOT NULL AS has_xid_now