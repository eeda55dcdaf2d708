"""Tables, engines and queries. Only this package speaks SQL.

Units of work. Every access is `Database.read(work)` or `Database.write(work)` (`db.engine`):
`work(conn)` runs in one transaction, on a connection it owns in a task of its own, so a
caller that is cancelled never cuts a statement in half (the work rolls back instead), and
writes retry a lost serialization race a few times. Work made only of driver-level
statements (the check, the exposure read) uses `read_direct` / `write_direct`: on SQLite it
then runs whole, BEGIN to COMMIT, in one hop to the connection's thread.

Two paths to the database, one rule between them:

- Driver-level ("lean", `db.lean`): the statements of the request hot paths, which run on
  every risk check and exposure read: the check's state (`db.checkstate`), reservations
  and their per-instrument totals, storing and replaying a decision, and the point reads
  of a profile, account, instrument, the platform row, books and realized P&L. A Core
  statement costs ~0.2 ms of Python here against ~0.03 ms for the driver, and a check
  needs a dozen of them.
- SQLAlchemy Core: everything else (ledger and settings writes, upserts, set-based job
  queries, listings, audit), where portable SQL and readability matter more than the cost.

Both paths share: the unit of work's transaction (a lean statement outside an open
transaction raises `OutsideTransaction`; on PostgreSQL the first lean statement opens the
transaction itself, so it never runs in autocommit); one definition per row shape
(`db.rows`: the select list of either path comes from it, rows are decoded by column name);
one meaning for each failure (`db.failures`: races retried, outages fail closed as
RISK_UNAVAILABLE, anything else is a bug and stays one).
"""
