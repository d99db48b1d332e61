"""A sandbox Tautulli 2.17 API (/api/v2) over a World, for demos, tests and benchmarks.

Responses follow Tautulli's own code (plexpy/api2.py, webserve.py, datafactory.py): the same
envelope, status codes, field names, defaults and quirks, computed from the world's plays.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import orjson

from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.tautulli_history import bool_true, history, split_strip
from pipeline.sandbox.tautulli_index import PlayIndex, index_key
from pipeline.sandbox.tautulli_stats import home_stats
from pipeline.sandbox.tautulli_tables import (activity, libraries, libraries_table, library_names, recently_added, user_details,
                              users, users_table)
from pipeline.sandbox.world import Plays, World

# Every command a real Tautulli 2.17 accepts; the error for an unknown one lists them all.
COMMANDS = sorted("""
add_newsletter_config add_notifier_config arnold backup_config backup_db delete_all_library_history
delete_all_user_history delete_cache delete_export delete_history delete_hosted_images delete_image_cache
delete_library delete_login_log delete_lookup_info delete_media_info_cache delete_mobile_device delete_newsletter
delete_newsletter_log delete_notification_log delete_notifier delete_recently_added delete_synced_item
delete_temp_sessions delete_user docs docs_md download_config download_database download_export download_log
download_plex_log edit_library edit_user export_metadata get_activity get_children_metadata get_collections_table
get_concurrent_streams_by_stream_type get_date_formats get_export_fields get_exports_table get_geoip_lookup
get_history get_home_stats get_item_user_stats get_item_watch_time_stats get_libraries get_libraries_table
get_library get_library_media_info get_library_names get_library_user_stats get_library_watch_time_stats get_logs
get_metadata get_new_rating_keys get_newsletter_config get_newsletter_log get_newsletters get_notification_log
get_notifier_config get_notifier_parameters get_notifiers get_old_rating_keys get_playlists_table
get_plays_by_date get_plays_by_dayofweek get_plays_by_hourofday get_plays_by_source_resolution
get_plays_by_stream_resolution get_plays_by_stream_type get_plays_by_top_10_platforms get_plays_by_top_10_users
get_plays_per_month get_plex_log get_pms_update get_recently_added get_server_friendly_name get_server_id
get_server_identity get_server_info get_server_list get_server_pref get_servers_info get_settings get_stream_data
get_stream_type_by_top_10_platforms get_stream_type_by_top_10_users get_synced_items get_tautulli_info get_user
get_user_ips get_user_logins get_user_names get_user_player_stats get_user_watch_time_stats get_users
get_users_table get_whois_lookup import_config import_database logout_user_session notify notify_newsletter
notify_recently_added pms_image_proxy refresh_libraries_list refresh_users_list register_device regroup_history
restart search server_status set_mobile_device_config set_newsletter_config set_notifier_config sql status
terminate_session undelete_library undelete_user update update_check update_metadata_details
""".split())

ARNOLD = ["I'll be back.", "Get to the chopper!", "Hasta La Vista, Baby!", "It's not a tumor!",
          "Come with me if you want to live.", "Do it!", "If it bleeds, we can kill it."]
VERSION = "v2.17.2"


class TautulliSandbox(SandboxServer):
    """`TautulliSandbox(world)`; the key is `world.tautulli_api_key`. Set `plex_connected = False` to
    answer as a Tautulli that lost its Plex server (Plex-backed commands return empty successes)."""

    name = "tautulli"

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self.world = world
        self.plex_connected = True
        self._index: PlayIndex | None = None
        self._world_lock = threading.RLock()
        self._arnold = 0
        self.cost = HistoryCost()
        self._seen: set[str] = set()  # commands asked so far (for hold_history_until)
        self._seen_changed = threading.Condition()
        self._hold: tuple[set[str], float] | None = None
        self.holds: list[bool] = []   # per held get_history: whether the awaited commands came
        self.index()  # snapshot item metadata now, as Tautulli did when each play ended

    def index(self) -> PlayIndex:
        """The play index for the world as it is now (rebuilt after plays change)."""
        with self._world_lock:
            if self._index is None or self._index.key != index_key(self.world):
                self._index = PlayIndex(self.world, self._index)
            return self._index

    # -- HTTP -----------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "/api/v2":
            status, body = self.api(dict(request.query))
            return Response(status, orjson.dumps(body), "application/json;charset=UTF-8")
        if path == "/api":
            body = {"response": {"result": "error", "message": "API v1 is no longer supported; use /api/v2",
                                 "data": {}}}
            return Response(200, orjson.dumps(body), "application/json;charset=UTF-8")
        return Response(404, b"Not Found", "text/html;charset=utf-8")

    def api(self, q: dict[str, str]) -> tuple[int, dict]:
        """One API call: validate as api2._api_validate does, run the command, wrap the envelope."""
        cmd = q.pop("cmd", None)
        apikey = q.pop("apikey", None)
        for dropped in ("callback", "debug", "profileme", "out_type", "app"):
            q.pop(dropped, None)
        if apikey is None:
            return _envelope(400, "error", "Parameter apikey is required", None)
        if cmd is None:
            return _envelope(400, "error", "Parameter cmd is required. Possible commands are: "
                             + ", ".join(COMMANDS), None)
        if cmd not in COMMANDS:
            return _envelope(400, "error", f"Unknown command: {cmd}. Possible commands are: "
                             + ", ".join(COMMANDS), None)
        if apikey != self.world.tautulli_api_key:
            return _envelope(400, "error", "Invalid apikey", None)
        with self._seen_changed:
            self._seen.add(cmd)
            self._seen_changed.notify_all()
        command = getattr(self, f"cmd_{cmd}", None)
        if command is None:
            return _envelope(400, "error", f"The sandbox Tautulli does not implement {cmd}", None)
        try:
            ret = command(q)
        except Exception:  # Tautulli logs the traceback and answers 500
            return _envelope(500, "error", "Check the logs for errors", None)
        if ret is None:  # a command that found nothing to return: Tautulli reports a bare error
            return _envelope(400, "error", None, None)
        result, message = "success", None
        if isinstance(ret, dict):
            if ret.get("message"):
                message = ret.pop("message")
            if ret.get("result"):
                result = ret.pop("result")
        return _envelope(200 if result == "success" else 400, result, message, ret)

    def hold_history_until(self, *commands: str, timeout: float = 20.0) -> None:
        """Test helper: answer get_history only once `commands` have been asked (or after `timeout` s).

        A client that asks for them only after the history answered waits out the timeout; `holds` says so.
        """
        with self._seen_changed:
            self._seen.clear()
            self._hold = (set(commands), timeout)

    # -- commands -------------------------------------------------------------------------------------
    def cmd_get_history(self, q: dict) -> dict:
        if self._hold is not None:
            commands, timeout = self._hold
            with self._seen_changed:
                self.holds.append(self._seen_changed.wait_for(lambda: commands <= self._seen, timeout))
        # An equality on an indexed column makes SQLite look rows up instead of scanning the table, dates or not.
        indexed = any(split_strip(q.get(name, "")) for name in INDEXED_FILTERS)
        answer = history(self.index(), q, list(self.world.activity), self.world.now)
        self.cost.charge(answer["recordsTotal"], answer["recordsFiltered"], scanned=not indexed)
        return answer

    def cmd_get_users(self, q: dict) -> list:
        return users(self.index())

    def cmd_get_users_table(self, q: dict) -> dict:
        return users_table(self.index(), q)

    def cmd_get_user(self, q: dict) -> dict:
        return user_details(self.index(), q.get("user_id"), bool_true(q.get("include_last_seen"), False))

    def cmd_get_libraries(self, q: dict) -> list:
        return libraries(self.world) if self.plex_connected else []

    def cmd_get_libraries_table(self, q: dict) -> dict:
        return libraries_table(self.index(), self.world, q)

    def cmd_get_library_names(self, q: dict) -> list:
        return library_names(self.world)

    def cmd_get_recently_added(self, q: dict) -> dict:
        count = int(q.get("count", "0"))
        if not self.plex_connected:
            return {"recently_added": []}
        return recently_added(self.world, int(q.get("start", "0")), count, q.get("media_type", q.get("type", "")),
                              q.get("section_id", ""))

    def cmd_get_activity(self, q: dict) -> dict:
        if not self.plex_connected:
            return {}
        return activity(self.index(), self.world, q.get("session_key"), q.get("session_id"))

    def cmd_get_home_stats(self, q: dict) -> list | dict:
        return home_stats(self.index(), self.world, q)

    def cmd_delete_all_user_history(self, q: dict) -> dict:
        user_id, row_ids = q.get("user_id"), q.get("row_ids")
        if not user_id and not row_ids:
            return {"result": "error", "message": "No user id or row ids received."}
        ix = self.index()
        if row_ids:
            wanted = {int(n) if n.strip().isdigit() else 0 for n in row_ids.split(",")}
            targets = [u.user_id for u in ix.users if u.row_id in wanted]
        elif str(user_id).isdigit():
            targets = [int(user_id)]
        else:
            return {"result": "error", "message": "Failed to delete user(s) history."}
        self.delete_user_history(targets)
        return {"result": "success", "message": "Deleted user history."}

    def delete_user_history(self, user_ids: list[int]) -> None:
        """Drop these users' plays from the world; other rows keep their ids."""
        with self._world_lock:
            cols = self.world.plays.cols
            keep = ~np.isin(cols["user_id"], np.array(user_ids, dtype=np.int64))
            self.world.plays = Plays({name: column[keep] for name, column in cols.items()})

    def cmd_arnold(self, q: dict) -> str:
        self._arnold += 1
        return ARNOLD[(self._arnold - 1) % len(ARNOLD)]

    def cmd_status(self, q: dict) -> dict:
        return {"result": "success", "message": "Ok"}

    def cmd_get_tautulli_info(self, q: dict) -> dict:
        return {"tautulli_install_type": "docker", "tautulli_version": VERSION, "tautulli_branch": "master",
                "tautulli_commit": "sandbox", "tautulli_platform": "Linux", "tautulli_platform_release": "6.8",
                "tautulli_platform_version": "sandbox", "tautulli_platform_linux_distro": "Debian",
                "tautulli_platform_device_name": "sandbox", "tautulli_python_version": "3.11"}

    def cmd_get_server_info(self, q: dict) -> dict:
        return {"pms_identifier": self.world.machine_identifier, "pms_ip": "127.0.0.1", "pms_is_remote": 0,
                "pms_name": self.world.server_name, "pms_platform": "Linux", "pms_plexpass": 1, "pms_port": 32400,
                "pms_ssl": 0, "pms_url": "http://127.0.0.1:32400", "pms_url_manual": 0,
                "pms_version": self.world.version}

    def cmd_get_server_friendly_name(self, q: dict) -> str:
        return self.world.server_name

    def cmd_get_server_id(self, q: dict) -> dict:
        return {"identifier": self.world.machine_identifier}


# get_history filters that become `session_history.<column> = ?` on a column Tautulli indexes (plexpy/__init__.py,
# dbcheck); the date filters (after, before, start_date) are strftime() over every row and no index serves them.
INDEXED_FILTERS = ("reference_id", "user_id", "user", "rating_key", "parent_rating_key", "grandparent_rating_key",
                   "section_id")

# A real Tautulli 2.17.2 at 300k rows on a quiet 2-core machine (docs/benchmarks.md): one request for every
# row took 33 s (~110 us a row loaded and sent); a date window's fixed cost, its table scan, about 0.7 s.
MEASURED_PER_ROW, MEASURED_PER_SCANNED_ROW = 110e-6, 2.3e-6


class HistoryCost:
    """What get_history costs a real Tautulli, counted (and, for benches, slept) per request.

    A real Tautulli scans its whole history table in SQLite for any filter, then loads every matching row
    into Python before slicing the page (plexpy/datatables.py): the load is what takes the time and memory.
    `full_history_queries` is the rows loaded, in units of the whole history: paging N plays in pages of P
    costs about N / P of them, date windows about one. The defaults sleep nothing, so tests count without
    timing; `per_row` and `per_scanned_row` (seconds) make the sandbox as slow as a measured Tautulli.
    """

    def __init__(self, per_row: float = 0.0, per_scanned_row: float = 0.0) -> None:
        self.per_row, self.per_scanned_row = per_row, per_scanned_row
        self.requests = self.rows_loaded = self.rows_scanned = 0
        self.biggest = 0              # the most rows one request loaded: Tautulli's memory follows it
        self.history_rows = 0         # the history's size at the last request
        self._lock = threading.Lock()

    def charge(self, history_rows: int, matched: int, scanned: bool = True) -> None:
        """One request that loaded `matched` rows; `scanned`: it also read the whole table (no index served it)."""
        history_rows_read = history_rows if scanned else 0
        with self._lock:
            self.requests += 1
            self.rows_loaded += matched
            self.rows_scanned += history_rows_read
            self.biggest = max(self.biggest, matched)
            self.history_rows = history_rows
        delay = matched * self.per_row + history_rows_read * self.per_scanned_row
        if delay > 0:
            time.sleep(delay)

    @property
    def full_history_queries(self) -> float:
        return self.rows_loaded / max(self.history_rows, 1)


def _envelope(status: int, result: str, message: str | None, data: object) -> tuple[int, dict]:
    return status, {"response": {"result": result, "message": message, "data": {} if data is None else data}}

