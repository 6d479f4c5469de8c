//! # threadstore-tests: the conformance suite
//!
//! One suite, written once against `Arc<dyn ThreadStore>`, run against every backend. Each case
//! is a `pub async fn case(b: Backend)` in a module of [`conformance`] (one module per area:
//! lifecycle, append, read, metadata, list_threads, search, archive_delete, turns, items,
//! concurrency; plus `restart` for persistent backends and `memory_only` for the in-memory
//! store's named registry). The [`conformance_suite!`] macro turns every case into its own
//! `#[tokio::test]` on a multi-threaded runtime, so a backend's test file is one line:
//!
//! ```ignore
//! threadstore_tests::conformance_suite!(threadstore_tests::harness::Backend::Memory);
//! ```
//!
//! Cases assert the semantics of `shared/CONTRACT.md` (and, where it is silent, the choices the
//! lead engineer made final): positions are dense from 0, the header is position 0, errors are
//! typed (`ThreadNotFound`, `Archived`, `StaleWriter`, `Conflict`, `InvalidRequest`), cursors are
//! keyset cursors bound to their listing, and metadata and turns are derived from the log. No case
//! asserts wall-clock time: timestamps that matter are given explicitly.

pub mod conformance;
pub mod fixtures;
pub mod harness;

/// Internal: expands `module: [case, ...]` lists into one `#[tokio::test]` per case, in a
/// submodule named after the area.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($backend:expr; $( $module:ident : [ $( $case:ident ),* $(,)? ] ),* $(,)?) => {
        $(
            #[allow(non_snake_case)]
            mod $module {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        if !$backend.available() {
                            return;
                        }
                        $crate::conformance::$module::$case($backend).await
                    }
                )*
            }
        )*
    };
}

/// Generates one test per conformance case for a backend.
///
/// - `conformance_suite!(backend)`: every backend-neutral case;
/// - `conformance_suite!(restart, backend)`: the restart cases (persistent backends only);
/// - `conformance_suite!(memory_only, backend)`: the in-memory store's named registry cases.
///
/// Pass the backend as a full path (`threadstore_tests::harness::Backend::Sled`) or import it in
/// the test file (each generated module does `use super::*`).
#[macro_export]
macro_rules! conformance_suite {
    (restart, $backend:expr) => {
        $crate::__conformance_cases! { $backend;
            restart: [
                everything_reads_the_same,
                writers_not_live_after_reopen,
                request_ids_survive_reopen,
                metadata_patches_survive_reopen,
                archive_and_delete_survive_reopen,
                turn_statuses_survive_reopen,
                appends_continue_after_reopen,
                concurrent_writes_then_reopen,
            ],
        }
    };
    (memory_only, $backend:expr) => {
        $crate::__conformance_cases! { $backend;
            memory_only: [
                for_id_shares_one_store,
                remove_id_forgets_the_store,
            ],
        }
    };
    ($backend:expr) => {
        $crate::__conformance_cases! { $backend;
            lifecycle: [
                create_then_append,
                create_generates_v7_id,
                create_with_explicit_id,
                create_conflicts_when_id_exists,
                create_with_history,
                resume_unknown_is_not_found,
                resume_conflicts_while_live,
                resume_after_shutdown_continues_after_prefix,
                resume_epochs_strictly_increase,
                shutdown_unknown_or_not_live_is_not_found,
                append_after_shutdown_is_not_found,
                discard_is_idempotent,
                discard_fences_old_handle_and_keeps_data,
                flush_and_persist,
                live_flag_follows_writer,
                recording_wrapper_counts_calls,
            ],
            append: [
                positions_are_dense,
                unknown_thread_is_not_found,
                stale_writer_epoch_is_rejected,
                current_writer_epoch_is_accepted,
                expected_position_mismatch_conflicts,
                request_id_deduplicates,
                request_id_survives_shutdown_and_resume,
                empty_append_is_noop,
                timestamps_length_mismatch_is_invalid,
                explicit_timestamps_are_recorded,
                explicit_ordinals_are_recorded,
                ordinals_must_increase,
                payload_json_is_preserved,
            ],
            read: [
                load_history_unknown_is_not_found,
                load_history_in_order,
                read_thread_unknown_is_not_found,
                read_thread_history_only_when_asked,
                metadata_from_create_params,
                metadata_from_history_header,
                preview_from_first_user_message,
                updated_at_is_latest_item_timestamp,
                recency_at_moves_on_task_started_only,
                model_and_effort_from_turn_context,
                token_usage_from_token_count,
                item_and_turn_counts,
                read_by_rollout_path,
                read_by_unknown_rollout_path_is_invalid,
                latest_model_context_starts_at_the_last_compaction,
            ],
            metadata: [
                unknown_thread_is_not_found,
                name_patch_is_logged_as_thread_name_updated,
                other_patch_is_logged_as_thread_metadata_updated,
                omitted_fields_are_unchanged,
                clearable_fields_are_cleared,
                git_info_is_merged_field_by_field,
                plain_fields_are_set,
                archived_thread_needs_include_archived,
                works_without_live_writer,
            ],
            list_threads: [
                empty_store_gives_empty_page,
                default_sort_is_created_at_desc,
                created_at_asc,
                updated_at_order,
                recency_at_order,
                ties_broken_by_id,
                paging_with_every_page_size,
                last_page_has_no_cursor,
                page_size_zero_means_fifty,
                page_size_over_max_is_invalid,
                garbage_cursor_is_invalid,
                cursor_from_another_listing_is_invalid,
                filter_allowed_sources,
                filter_model_providers,
                filter_cwd,
                filter_search_term,
                filter_relation,
                archived_collection_is_disjoint,
                filters_combine_with_paging,
                listed_thread_matches_read,
            ],
            search: [
                empty_term_is_invalid,
                finds_words_anywhere_in_a_thread,
                words_phrases_and_prefixes,
                relevance_ranks_more_matches_first,
                snippets_carry_utf16_match_ranges,
                no_match_gives_empty_page,
                archived_collection_is_separate,
                list_filters_apply,
                pages_and_sort_keys,
                deleted_threads_leave_the_index,
            ],
            archive_delete: [
                archive_unknown_is_not_found,
                archive_and_unarchive_are_idempotent,
                archived_thread_leaves_active_listing,
                archived_thread_reads_need_include_archived,
                resume_archived_needs_include_archived,
                append_to_live_archived_thread_works,
                delete_unknown_is_not_found,
                delete_removes_everything,
                delete_live_thread_closes_writer,
                delete_archived_thread,
                delete_cascades_to_spawned_descendants,
                archive_threads_is_ordered_and_reports_a_partial_batch,
                delete_threads_counts_missing_ones_as_deleted,
            ],
            turns: [
                worked_example,
                default_view_is_summary,
                summary_view_first_user_last_agent,
                not_loaded_view_matches_full,
                full_view_has_every_item,
                status_completed,
                status_interrupted,
                status_failed_keeps_error,
                in_progress_turn_is_visible_while_written,
                implicit_turns_for_old_streams,
                preamble_belongs_to_no_turn,
                trailing_items_join_last_turn,
                rollback_drops_last_turn,
                paging_with_every_page_size,
                garbage_cursor_is_invalid,
                cursor_of_another_thread_is_invalid,
                items_cursor_is_invalid_for_turns,
                page_size_zero_and_over_max,
                archived_thread_needs_include_archived,
                header_only_thread_has_no_turns,
                unknown_thread_is_not_found,
            ],
            item_view: [
                paginated_turns_follow_codex_rules,
                item_view_pages_the_whole_thread_both_ways,
                item_view_of_one_turn_and_its_json,
                item_view_cursors_are_checked,
                item_view_of_a_legacy_turn_pages_both_ways,
                occurrences_match_prompts_and_final_answers_in_log_order,
            ],
            codex_home: [
                the_frozen_codex_home_reads_as_codex_left_it,
            ],
            fork: [
                fork_at_each_boundary,
                fork_of_a_fork_survives_its_ancestors,
                fork_mid_turn_interrupts_the_turn,
                fork_of_a_paginated_thread_reads_its_item_view,
                fork_errors_are_typed,
                forks_and_their_parent_write_concurrently,
            ],
            revert: [
                revert_hides_turns_items_and_history,
                revert_fences_the_writer_and_appends_go_on_after_resume,
                revert_of_a_paginated_thread_trims_the_item_view,
                revert_to_an_unknown_turn_is_invalid,
                revert_is_on_the_feed,
                rollback_drops_the_last_turns_of_an_older_era,
            ],
            items: [
                whole_thread_ascending_by_default,
                whole_thread_descending,
                one_turn_scope,
                paging_both_directions,
                backwards_cursor_includes_anchor,
                garbage_cursor_is_invalid,
                cursor_of_another_scope_is_invalid,
                turns_cursor_is_invalid_for_items,
                unknown_turn_is_invalid,
                unknown_thread_is_not_found,
                page_size_over_max_is_invalid,
                archived_thread_needs_include_archived,
            ],
            concurrency: [
                many_writers_many_threads,
                readers_concurrent_with_writers,
                concurrent_creates_of_one_id,
                concurrent_resumes_of_one_thread,
                concurrent_expected_position_appends,
                concurrent_retries_of_one_request_id,
            ],
        }
    };
}
