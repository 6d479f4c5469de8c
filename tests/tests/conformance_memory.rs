//! The conformance suite against `InMemoryThreadStore`.

use threadstore_tests::harness::Backend;

threadstore_tests::conformance_suite!(Backend::Memory);
threadstore_tests::conformance_suite!(memory_only, Backend::Memory);
