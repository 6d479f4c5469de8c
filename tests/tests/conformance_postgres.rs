//! The conformance suite against `PostgresThreadStore` (each case on a fresh schema of the
//! database `THREADSTORE_PG` names; skipped with a message without it, a failure under CI), plus
//! the restart cases (a new node on the same schema).

use threadstore_tests::harness::Backend;

threadstore_tests::conformance_suite!(Backend::Postgres);
threadstore_tests::conformance_suite!(restart, Backend::Postgres);
