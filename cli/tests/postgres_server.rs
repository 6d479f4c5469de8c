//! The conformance suite through `threadstore serve --postgres` (a real server process on a fresh
//! schema of `THREADSTORE_PG`, reached through `RemoteThreadStore`), plus the restart cases (the
//! server stopped and a new one started on the same schema). Skipped with a message without a
//! database, a failure under CI.

const BIN: &str = env!("CARGO_BIN_EXE_threadstore");

mod conformance {
    use threadstore_tests::harness::Backend;

    threadstore_tests::conformance_suite!(Backend::RemotePostgres(crate::BIN));
    threadstore_tests::conformance_suite!(restart, Backend::RemotePostgres(crate::BIN));
}
