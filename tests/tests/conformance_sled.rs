//! The conformance suite against `SledThreadStore`, plus the restart cases.

use threadstore_tests::harness::Backend;

threadstore_tests::conformance_suite!(Backend::Sled);
threadstore_tests::conformance_suite!(restart, Backend::Sled);
