"""Every named query in pipeline/sql/ (migrations aside, tests/unit/test_store.py runs those) has a caller and runs.

Each file runs with its sample parameters against tests/fixtures/sql_world.py's tiny store, inside a transaction
that is rolled back, so a query broken by a schema change, or left behind by its caller, fails here.
A read must return a row there: a sample that returns nothing proves little, so seed the store until it does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from tests.fixtures.sql_world import ALICE_EMAIL, DIGEST_KEY, SOON, registered_rows, seeded
from tests.fixtures.stats_world import ALICE, BOB, DAVE, INGESTED, PERIOD, TZ

from pipeline.stats.queries import params_of
from pipeline.store.db import sql

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
PERIOD_PARAMS = {"start": PERIOD.start, "end": PERIOD.end}
NOW = {"now": INGESTED}

# The parameters each file binds, as its caller passes them. A new file needs a line here.
SAMPLES: dict[str, dict] = {
    "act/allow_media_deletion": {},
    "act/audit_for": {"subject": "user", "subject_id": ALICE},
    "act/collection_wanted": {},
    "act/finish_run": {"run_id": 1, "finished_at": INGESTED, "status": "ok", "summary": "nothing to do"},
    "act/first_applied_run": {},
    "act/insert_audit": {},
    "act/media_deletion_save": {
        "rating_key": 120, "title": "Up", "media_type": "movie", "size_bytes": 4000, "state": "partial",
        "agent_ids": '{"tmdb": 14160}', "arr": "radarr", "arr_id": 7, "arr_unmonitored": True,
        "arr_file_deleted": False, "arr_excluded": False, "plex_deleted": False, "attempts": 1,
        "last_error": "Radarr unreachable", "started_at": INGESTED, "deleted_at": None, "updated_at": INGESTED,
        "seerr": None, "seerr_media_id": None, "series_excluded": False},
    "act/media_deletions_all": {},
    "act/show_left_in_plex": {"rating_key": 212},
    "act/open_requests_for": {"rating_key": 100, "tmdb_id": 14160, "show_tvdb_id": None, "season": None},
    "act/seerr_entry_for": {"rating_key": 100, "tmdb_id": None, "show_tvdb_id": None},
    "act/media_mark_relisted": {"rating_key": 140, "at": INGESTED},
    "act/media_queue_keys": {},
    "act/media_relisted": {},
    "act/start_run": {"started_at": INGESTED, "applied": False, "forced": False, "scope": "users"},
    "act/user_states": {},
    "act/user_states_gone": {},
    "act/user_states_save": {},
    "act/user_unshared": {"user_id": BOB, "at": INGESTED},
    "ingest/clear_watch_state": {},
    "ingest/clear_watch_unread": {},
    "ingest/insert_watch_state": NOW,
    "ingest/insert_watch_unread": NOW,
    "ingest/watch_state_targets": {},
    "ingest/clear_arr_calendar": {"app": "sonarr"},
    "ingest/insert_arr_calendar": NOW,
    "ingest/clear_seerr_titles": {},
    "ingest/insert_seerr_titles": NOW,
    "ingest/clear_seerr_media": {},
    "ingest/clear_seerr_requests": {},
    "ingest/insert_seerr_media": NOW,
    "ingest/insert_seerr_requests": NOW,
    "ingest/count_changed_plex_items": {},
    "ingest/fill_play_sections": {},
    "ingest/insert_tautulli_history": {},
    "ingest/last_successful_run": {},
    "ingest/mark_removed_plex_items": {**NOW, "sections": [1]},
    "ingest/mark_removed_plex_sections": NOW,
    "ingest/mark_removed_plex_users": NOW,
    "ingest/mark_removed_tautulli_users": NOW,
    "ingest/merge_plex_items": NOW,
    "ingest/merge_plex_sections": NOW,
    "ingest/merge_plex_server": {**NOW, "machine_identifier": "abc123", "name": "Marquee", "version": "1.42",
                                 "allow_media_deletion": True},
    "ingest/merge_plex_users": NOW,
    "ingest/merge_tautulli_libraries": NOW,
    "ingest/merge_tautulli_users": NOW,
    "ingest/newest_tautulli_play": {},
    "ingest/next_run_id": {},
    "ingest/plex_sections_stored": {},
    "ingest/record_plex_outcome": {"run_id": 1, "items": 30, "plex_skipped": None, "finished_at": INGESTED},
    "ingest/record_run": {"run_id": 2, "started_at": INGESTED, "finished_at": None, "status": "failed",
                          "plays_fetched": 0, "plays_new": 0, "users": None, "items": None, "plex_skipped": None,
                          "error": "Tautulli unreachable", "tautulli_rows": None, "history_route": None,
                          "history_from": None},
    "ingest/history_route_state": {},
    "ingest/overlap_references": {"since": INGESTED},
    "ingest/stored_server": {},
    "ingest/update_tautulli_history": {},
    "issues/all_issues": {},
    "issues/list_issues": {"kind": "weekly"},
    "issues/listed_in_plex": {"keys": [100, 110, 999_999]},
    "issues/load_issue": {"issue_key": DIGEST_KEY},
    "issues/play_span": {},
    "issues/save_issue": {"issue_key": DIGEST_KEY, "kind": "weekly", "period_key": "2026-W46",
                          "starts_at": PERIOD.start, "ends_at": PERIOD.end, "built_at": INGESTED,
                          "snapshot": '{"empty": false}', "schema_version": 1, "replace": True},
    "issues/user_emails": {},
    "notices/user_contacts": {},
    "notices/user_delivery": {"key": DIGEST_KEY, "email": ALICE_EMAIL},
    "notices/user_warning_stats": {"user_ids": [ALICE, BOB], "since": PERIOD.start, "min_play_seconds": 300},
    "policy/last_full_ingest": {},
    "policy/latest_play": {},
    "policy/members": {"min_play_seconds": 300},
    "readers/reader_requests": {"since": INGESTED - timedelta(days=7)},
    "readers/leaving_for_users": {},
    "readers/leaving_public": {"until": SOON + timedelta(days=1), "sections": None},
    "readers/reader_sections": {},
    "readers/section_titles": {},
    "readers/title_sections": {"rating_keys": [100, 211]},
    "period_cache/drop_sessions": {},
    "period_cache/drop_sessions_macro": {},
    "period_cache/drop_titles": {},
    "period_cache/drop_titles_macro": {},
    "period_cache/sessions": {**PERIOD_PARAMS, "prev_start": PERIOD.previous().start},
    "period_cache/titles": PERIOD_PARAMS,
    "period_cache/use_sessions": {},
    "period_cache/use_titles": {},
    "media/assigned_watches": {},
    "media/assignees_without_access": {},
    "media/assignment_counts": {},
    "media/assignments_add": {**NOW, "source": "file"},
    "media/assignments_drop_stale": {"source": "file"},
    "media/assignments_merged": {},
    "media/assignments_of_target": {"target": 100},
    "media/assignments_remove": {"target": 100, "user_ids": [ALICE]},
    "media/episodes_of_season": {"season": 201},
    "media/episodes_of_show": {"show": 200},
    "media/freed_by_month": {"tz": TZ},
    "media/item_by_key": {"rating_key": 100},
    "media/seasons_of_show": {"show": 200, "show_title": "Severance"},
    "media/keep_add": {**NOW, "rating_key": 100, "title": "Heat", "note": ""},
    "media/keep_count": {},
    "media/keep_of": {"rating_key": 110},
    "media/keeps_all": {},
    "media/label_assignments": {"prefix": "marquee:"},
    "media/library_titles": {},
    "media/media_items": {},
    "media/queue_drop_kept": {"rating_key": 120},
    "media/queue_drop_left": {},
    "media/queue_first_queued": {},
    "media/queue_save": NOW,
    "media/queue_summary": NOW,
    "media/relisted_deletions": {},
    "media/request_targets": {},
    "media/requested_items": {},
    "media/removed_titles_matching": {"title": "gone", "year": None},
    "media/title_choices": {},
    "media/titles_matching": {"title": "heat", "year": 1995},
    "media/unfinished_deletions": {},
    "media/user_directory": {},
    "media/user_names": {},
    "send/add_optout": {**NOW, "email": "dave@example.com", "source": "link"},
    "send/apply_journal": {"keys": [DIGEST_KEY], "emails": [ALICE_EMAIL], "claims": [1], "states": ["sent"],
                           "provider_ids": ["ses-1"], "errors": [None], "finished": [INGESTED]},
    "send/delivery_counts": {"key": DIGEST_KEY},
    "send/delivery_states": {"key": DIGEST_KEY},
    "send/digest_users": {},
    "send/mark_stale_unknown": {},
    "send/optouts": {},
    "send/remove_optout": {"email": "bob@example.com"},
    "send/store_file": {},
    "send/write_deliveries": {**NOW, "backend": "outbox", "keys": [DIGEST_KEY], "emails": ["dave@example.com"],
                              "user_ids": [DAVE], "kinds": ["digest"], "states": ["sending"], "provider_ids": [None],
                              "errors": [None], "sizes": [1024]},
    # stats/ files also have known answers in tests/unit/test_stats_sql.py
    "stats/added_totals": PERIOD_PARAMS,
    "stats/busiest_heatmap": {**PERIOD_PARAMS, "tz": TZ},
    "stats/community_watchlist": {**PERIOD_PARAMS, "limit": 10, "min_viewers": 2},
    "stats/issue_users": {**PERIOD_PARAMS, "prev_start": PERIOD.previous().start},
    "stats/platforms": PERIOD_PARAMS,
    "stats/recently_added": {**PERIOD_PARAMS, "limit": 10},
    "issues/coming_soon": {"from": PERIOD.end, "until": PERIOD.end + timedelta(days=14), "tz": TZ, "limit": 10},
    "stats/server_totals": {**PERIOD_PARAMS, "prev_start": PERIOD.previous().start},
    "stats/top_movies": {**PERIOD_PARAMS, "limit": 10},
    "stats/top_music": {**PERIOD_PARAMS, "limit": 10},
    "stats/top_shows": {**PERIOD_PARAMS, "limit": 10},
    "stats/top_viewers": {**PERIOD_PARAMS, "limit": 10},
    "stats/user_shared_titles": {**PERIOD_PARAMS, "limit": 5},
    "stats/user_streak": {**PERIOD_PARAMS, "tz": TZ},
    "stats/user_top_titles": {**PERIOD_PARAMS, "limit": 5},
    "stats/user_totals": {**PERIOD_PARAMS, "prev_start": PERIOD.previous().start},
    "stats/hours_by_month": {**PERIOD_PARAMS, "tz": TZ},
    "stats/user_binges": {**PERIOD_PARAMS, "tz": TZ},
    "stats/user_cowatchers": {**PERIOD_PARAMS, "limit": 6},
    "stats/user_finished_shows": PERIOD_PARAMS,
    "stats/user_genres": {**PERIOD_PARAMS, "limit": 5},
    "stats/user_top_by_kind": {**PERIOD_PARAMS, "limit": 5},
    "stats/user_year_highlights": {**PERIOD_PARAMS, "tz": TZ},
    "year/admin_figures": PERIOD_PARAMS,
    "year/library_growth": {**PERIOD_PARAMS, "tz": TZ},
    "store/schema_version": {},
    "notices/media_notices_add": {},
    "act/media_queue_schedule": {},
    "media/done_watches": {},
    "media/plex_watches": {},
    "media/watch_unread": {},
    "media/notices_sent": {},
    "media/recent_viewers": {"since": INGESTED - timedelta(days=30)},
    "media/unreachable_users": {},
    "inbox/last_taken": {"inbox_uid": "seed"},
    "inbox/take_actions": {**NOW, "inbox_uid": "seed"},
    "inbox/refuse_foreign": {},
    "inbox/apply_optouts": {},
    "inbox/apply_resubscribes": {},
    "inbox/apply_keeps": {},
    "inbox/mark_applied": {},
    "inbox/unaudited": {},
    "inbox/mark_audited": {"run_id": 1, "upto": INGESTED},
}
# Files that read what another file makes, as their caller runs them: (file, its sample parameters) run first.
SETUP: dict[str, list[str]] = {
    "period_cache/use_sessions": ["period_cache/sessions"],
    "period_cache/use_titles": ["period_cache/titles"],
}
_READ = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
_COMMENT = re.compile(r"--[^\n]*")


def named_queries() -> list[str]:
    """'folder/name' of every .sql file under pipeline/sql/ except the schema migrations."""
    root = resources.files("pipeline.sql")
    return sorted(f"{folder.name}/{entry.name[:-4]}" for folder in root.iterdir()
                  if folder.is_dir() and folder.name not in ("schema", "__pycache__")
                  for entry in folder.iterdir() if entry.name.endswith(".sql"))


def test_every_named_query_has_sample_parameters():
    missing = sorted(set(named_queries()) - set(SAMPLES))
    assert not missing, f"add sample parameters to SAMPLES in {Path(__file__).name} for: {missing}"
    stale = sorted(set(SAMPLES) - set(named_queries()))
    assert not stale, f"SAMPLES names files that are gone: {stale}"


def test_every_named_query_has_a_caller():
    """A file nothing runs is dead. stats/ files are run by their bare name (pipeline.stats.queries.run)."""
    code = "\n".join(p.read_text() for p in PIPELINE.rglob("*.py"))
    stats_code = "\n".join(p.read_text() for p in (PIPELINE / "stats").glob("*.py"))
    dead = [name for name in named_queries()
            if f'"{name}"' not in code
            and not (name.startswith("stats/") and f'"{name.split("/", 1)[1]}"' in stats_code)]
    assert not dead, f"no code in pipeline/ runs: {dead}; delete the file or call it"


@pytest.mark.parametrize("name", named_queries())
def test_every_named_query_runs_on_the_seeded_store(name):
    if name not in SAMPLES:
        pytest.fail(f"pipeline/sql/{name}.sql has no sample parameters in SAMPLES")
    assert params_of(name) == set(SAMPLES[name]), "SAMPLES must bind exactly the file's parameters"
    store = seeded()
    for relation, table in registered_rows().items():
        store.con.register(relation, table)
    store.con.execute("BEGIN")
    try:
        for first in SETUP.get(name, []):
            store.execute(first, SAMPLES[first])
        rows = store.execute(name, SAMPLES[name])
    finally:
        store.con.execute("ROLLBACK")
    if _READ.match(_COMMENT.sub("", sql(name))):
        assert rows, f"{name} read nothing from the seeded store: seed tests/fixtures/sql_world.py so it does"
