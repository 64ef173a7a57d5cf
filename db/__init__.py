"""PostgreSQL: the pool, the migration runner, the embedded server and the queries of each domain."""
