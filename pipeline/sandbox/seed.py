"""A deterministic sandbox world: users, libraries and items; plays come from seed_plays.

Same arguments, same world: everything is drawn from one `np.random.default_rng(seed)` (the retention
labels and collections, added last, from a stream of their own so they move nothing else).
The scripted users and titles are the edge cases a Plex admin meets on day one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone

import numpy as np

from pipeline.sandbox.seed_plays import add_plays, generate_plays
from pipeline.sandbox.world import Item, SandboxUser, Section, World

__all__ = ["DEFAULT_NOW", "IDLE_DAYS", "add_plays", "generate"]

DEFAULT_NOW = int(datetime(2026, 11, 16, 12, tzinfo=timezone.utc).timestamp())
DAY = 86_400
IDLE_DAYS = (10, 26, 27, 29, 30, 45)  # policy warns at 27 and kicks at 30: both sides of each edge

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Ethan", "Amara", "Kenji",
         "Priya", "Diego", "Chloe", "Omar", "Hannah", "Luca", "Zoe", "Samuel", "Aisha", "Felix", "Nora", "Arjun",
         "Grace", "Tomas", "Leila", "Owen", "Ines", "Malik", "Ruby", "Hugo", "Yuki", "Elena", "Isaac", "Freya"]
LAST = ["Smith", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kowalski", "Nguyen", "Patel", "Muller", "Rossi",
        "Haddad", "Tanaka", "Johansson", "O'Brien", "Dubois", "Kim", "Moreau", "Ivanova", "Mensah", "Larsen",
        "Costa", "Fischer", "Reyes", "Walsh", "Yilmaz", "Berg", "Santos", "Clarke", "Abe", "Lopez", "Meyer"]
ADJ = ["Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Distant", "Frozen", "Wild", "Electric",
       "Hollow", "Burning", "Lost", "Midnight", "Iron", "Paper", "Glass", "Northern", "Secret", "Velvet",
       "Savage", "Quiet", "Endless", "Bright", "Fallen", "Lucky", "Restless", "Shallow", "Bitter", "Neon"]
NOUN = ["Harbor", "Empire", "River", "Signal", "Garden", "Horizon", "Machine", "Kingdom", "Witness", "Shadow",
        "Orchard", "Frontier", "Voyage", "Country", "Mirror", "Letter", "Station", "Island", "Circuit", "Summer",
        "Forest", "Protocol", "Carnival", "Tide", "Compass", "Lantern", "Canyon", "Archive", "Engine", "Parade",
        "Meadow", "Citadel", "Hotel", "Ocean", "Border", "Engineer", "Theory", "Season", "Outpost", "Garage"]
SUFFIX = ["", " II", " III", ": Reloaded", " Returns", ": Origins", " Forever", ": The Final Chapter"]
# Titles that break careless HTML, SQL or font handling; they must survive every stage untouched.
SPECIAL_MOVIES = ["<script>alert(1)</script>", "Tom & Jerry", "\"Quoted\" 'Title'", "🎬 Movie Night",
                  "千と千尋の神隠し"]
SPECIAL_SHOWS = ["The Long Night", "Crime & Punishment", "进击的巨人 🐉"]
SPECIAL_ARTISTS = ["The Midnight Parade", "星野ハル", "AC/DC & Friends"]
RETENTION_PREFIX = "marquee:"  # the default retention.label_prefix


def generate(seed: int = 1, users: int = 24, plays: int = 6000, days: int = 180, now: int | None = None,
             timezone: str = "America/New_York") -> World:
    """Build the whole world for `seed`; `now` defaults to a fixed instant so tests are stable."""
    now = DEFAULT_NOW if now is None else int(now)
    rng = np.random.default_rng(seed)
    world = World(
        seed=seed, now=now, timezone=timezone, server_name="Marquee Sandbox",
        machine_identifier=_hex(rng, 40), owner_token=_token(rng, 20), tautulli_api_key=_hex(rng, 32),
        users=[], sections=[], items={})
    world.sections = [Section(1, "Movies", "movie", 0, "/data/media/Movies"),
                      Section(2, "TV Shows", "show", 0, "/data/media/TV"),
                      Section(3, "Music", "artist", 0, "/data/media/Music")]
    world.users = _users(rng, max(users, 1), now)
    world.items = _items(rng, len(world.users), now, days)
    for section in world.sections:
        section.updated_at = max((i.updated_at for i in world.items.values() if i.section_id == section.section_id),
                                 default=now - 400 * DAY)
    generate_plays(world, rng, plays, days)
    _retention(world)
    return world


def credits_percent(item: Item) -> int | None:
    """Where the end credits start, as a percent; a third of videos have an early marker."""
    if item.type in ("movie", "episode") and item.rating_key % 3 == 0:
        return 80
    return None


# -- users ---------------------------------------------------------------------------------------

def _users(rng: np.random.Generator, count: int, now: int) -> list[SandboxUser]:
    ids = _unique_ints(rng, 10_000_000, 99_999_999, max(count, 20) + 8)  # the scripted users always exist
    names = _names(rng, max(count, 20) + 8)
    all_sections = (1, 2, 3)
    out: list[SandboxUser] = []

    def add(friendly: str, username: str, email: str | None, *, accepted_days: float | None = None,
            sections: tuple[int, ...] = all_sections, **kw: object) -> None:
        n = len(out)
        is_owner = bool(kw.get("is_owner"))
        invited = accepted = None
        if not is_owner:
            age = accepted_days if accepted_days is not None else float(rng.uniform(200, 4 * 365))
            accepted = None if kw.get("note") == "pending" else int(now - age * DAY)
            invited = int(now - max(age, 0) * DAY - rng.uniform(600, 3 * DAY))
        out.append(SandboxUser(
            user_id=int(ids[n]), username=username, friendly_name=friendly, email=email,
            share_id=None if is_owner else 7_100_000 + n * 13, invited_at=invited, accepted_at=accepted,
            section_ids=sections, all_libraries=sections == all_sections, **kw))  # type: ignore[arg-type]

    add("Alex Rivera", "alexrivera", "alex.rivera@example.com", is_owner=True, note="owner")
    add("Jordan Rivera", "jordanr", "jordan@example.org", is_home=True, note="home")
    add("Kids", "Kids", None, is_home=True, is_restricted=True, sections=(2,), note="managed")
    add("Grandpa Joe", "Grandpa Joe", None, is_home=True, is_restricted=True, sections=(1, 2), note="managed")
    add("Casey Morgan", "caseym", "casey.morgan@example.com", note="never watched")
    for days_idle in IDLE_DAYS:
        first, last = names.pop()
        add(f"{first} {last}", _handle(first, last, days_idle), _email(first, last, days_idle),
            accepted_days=float(rng.uniform(120, 900)), note=f"idle {days_idle}d")
    add("Riley Park", "rileyp", "riley.park@example.org", accepted_days=2, note="welcome")
    add("Sam Whitfield", "samw", "sam.whitfield@example.com", accepted_days=0.5, note="grace")
    add("Pat Quinn", "patq", "pat.quinn@example.com", accepted_days=5, in_tautulli=False, note="pending")
    add("Morgan Lee", "morganlee", "morgan.lee@example.org", in_tautulli=False, has_share=False, note="deleted")
    add("   ", "blankname", "blank.name@example.com", note="blank name")
    add("美咲 🌸", "misaki", "misaki@example.org", sections=(1, 2), note="unicode name")
    n = 0
    while len(out) < count:
        n += 1
        first, last = names.pop() if names else ("Friend", f"No{n}")
        sections = all_sections if rng.random() < 0.75 else _some_sections(rng)
        add(f"{first} {last}", _handle(first, last, n), _email(first, last, n), sections=sections)
    return out


def _some_sections(rng: np.random.Generator) -> tuple[int, ...]:
    options = [(1,), (2,), (1, 2), (1, 3), (2, 3)]
    return options[int(rng.integers(len(options)))]


def _names(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    pairs = [(f, l) for f in FIRST for l in LAST]
    order = rng.permutation(len(pairs))
    out = [pairs[i] for i in order[:count]]
    out.reverse()  # popped from the end
    return out


def _handle(first: str, last: str, n: int) -> str:
    return f"{first.lower()}{last.lower().replace(chr(39), '')[:4]}{n}"


def _email(first: str, last: str, n: int) -> str:
    domain = "example.com" if n % 3 else "example.org"
    return f"{first.lower()}.{last.lower().replace(chr(39), '')}{n}@{domain}"


# -- items ---------------------------------------------------------------------------------------

class _Keys:
    def __init__(self) -> None:
        self.next = 1001

    def take(self) -> int:
        self.next += 1
        return self.next - 1


def _items(rng: np.random.Generator, n_users: int, now: int, days: int) -> dict[int, Item]:
    """Movies, shows/seasons/episodes and artists/albums/tracks; the library predates the play window."""
    keys, items = _Keys(), {}
    window = now - days * DAY
    library_start = window - 3 * 365 * DAY

    def added_time(recent_share: float) -> int:
        if rng.random() < recent_share and window < now - 8 * DAY:  # during the play window, before last week
            return int(rng.integers(window, now - 8 * DAY))
        return int(rng.integers(library_start, window))

    titles = _titles(rng, max(60, n_users * 2) + max(12, n_users // 2) + max(8, n_users // 4))
    n_movies = max(60, n_users * 2)
    for i in range(n_movies):
        title = SPECIAL_MOVIES[i] if i < len(SPECIAL_MOVIES) else titles.pop()
        added = now - int(rng.integers(3600, 7 * DAY)) if n_movies - 6 < i else added_time(0.12)
        year = int(min(2026, 2026 - rng.gamma(1.6, 9)))
        duration = int(rng.uniform(80, 180)) * 60_000 + int(rng.integers(0, 60_000))
        labels = ("keep",) if rng.random() < 0.1 or i == 1 else ()
        rk = keys.take()
        items[rk] = Item(rk, 1, "movie", title, added, _updated(rk, added, now), year=year, duration_ms=duration,
                         size_bytes=int(np.exp(rng.uniform(np.log(1e9), np.log(60e9)))), labels=labels,
                         file=f"/data/media/Movies/{title} ({year})/{title} ({year}).mkv")
    for i in range(max(12, n_users // 2)):
        _show(rng, keys, items, SPECIAL_SHOWS[i] if i < len(SPECIAL_SHOWS) else titles.pop(),
              burst=i == 0, grow=added_time(0.0), now=now)
    for i in range(max(8, n_users // 4)):
        _artist(rng, keys, items, SPECIAL_ARTISTS[i] if i < len(SPECIAL_ARTISTS) else titles.pop(),
                start=added_time(0.0), now=now, fresh=i == 1)
    return items


def _show(rng: np.random.Generator, keys: _Keys, items: dict[int, Item], title: str, *, burst: bool,
          grow: int, now: int) -> None:
    """A show whose seasons arrive in order; the burst show gets a whole season in the last week."""
    year = int(rng.integers(1995, 2025))
    show_key = keys.take()
    n_seasons = 2 if burst else int(rng.integers(1, 7))
    episode_minutes = int(rng.choice([22, 30, 44, 50, 58]))
    leaves: list[Item] = []
    seasons: list[Item] = []
    added = grow
    for s in range(1, n_seasons + 1):
        if burst and s == 2:
            added = now - 3 * DAY + int(rng.integers(0, 3600))
        elif s > 1:
            added = min(added + int(rng.integers(30, 300)) * DAY, now - 8 * DAY)
        season_key = keys.take()
        n_eps = 8 if burst and s == 2 else int(rng.integers(6, 14))
        season_leaves = []
        jitter, sizes = rng.integers(-120, 240, size=n_eps + 1), rng.uniform(0.3e9, 4e9, size=n_eps + 1)
        for e in range(1, n_eps + 1):
            rk = keys.take()
            ep_added = min(added + (e - 1) * (60 if burst and s == 2 else 3600), now - 60)
            ep_title = "Dinner & a Show" if burst and s == 1 and e == 3 else f"Episode {e}"
            item = Item(rk, 2, "episode", ep_title, ep_added, _updated(rk, ep_added, now),
                        parent_rating_key=season_key, grandparent_rating_key=show_key, parent_title=f"Season {s}",
                        grandparent_title=title, index=e, parent_index=s, year=year + s - 1,
                        duration_ms=(episode_minutes * 60 + int(jitter[e])) * 1000, size_bytes=int(sizes[e]),
                        file=f"/data/media/TV/{title}/Season {s:02d}/{title} - S{s:02d}E{e:02d}.mkv")
            season_leaves.append(item)
        seasons.append(Item(season_key, 2, "season", f"Season {s}", season_leaves[0].added_at,
                            max(i.updated_at for i in season_leaves), parent_rating_key=show_key,
                            parent_title=title, index=s, year=year + s - 1))
        leaves += season_leaves
    items[show_key] = Item(show_key, 2, "show", title, leaves[0].added_at, max(i.updated_at for i in leaves),
                           year=year, labels=("keep",) if burst else ())
    for item in seasons + leaves:
        items[item.rating_key] = item


def _artist(rng: np.random.Generator, keys: _Keys, items: dict[int, Item], name: str, *, start: int,
            now: int, fresh: bool) -> None:
    """An artist with albums released in order; `fresh` gets an album added in the last week."""
    artist_key = keys.take()
    n_albums = 2 if fresh else int(rng.integers(1, 5))
    year = int(rng.integers(1965, 2022))
    albums, leaves = [], []
    added = start
    for a in range(1, n_albums + 1):
        if fresh and a == n_albums:
            added = now - int(rng.integers(DAY, 6 * DAY))
        elif a > 1:
            added = min(added + int(rng.integers(20, 400)) * DAY, now - 8 * DAY)
        album_key = keys.take()
        album_title = f"{ADJ[int(rng.integers(len(ADJ)))]} {NOUN[int(rng.integers(len(NOUN)))]}"
        album_year = min(2026, year + 2 * a)
        album_leaves = []
        n_tracks = int(rng.integers(8, 15))
        seconds, sizes = rng.uniform(120, 420, size=n_tracks + 1), rng.uniform(5e6, 50e6, size=n_tracks + 1)
        for t in range(1, n_tracks + 1):
            rk = keys.take()
            album_leaves.append(Item(
                rk, 3, "track", f"Track {t}", added, _updated(rk, added, now), parent_rating_key=album_key,
                grandparent_rating_key=artist_key, parent_title=album_title, grandparent_title=name, index=t,
                parent_index=1, year=album_year, duration_ms=int(seconds[t]) * 1000, size_bytes=int(sizes[t]),
                file=f"/data/media/Music/{name}/{album_title}/{t:02d} - Track {t}.flac"))
        albums.append(Item(album_key, 3, "album", album_title, added, max(i.updated_at for i in album_leaves),
                           parent_rating_key=artist_key, parent_title=name, index=a, year=album_year))
        leaves += album_leaves
    items[artist_key] = Item(artist_key, 3, "artist", name, leaves[0].added_at, max(i.updated_at for i in leaves))
    for item in albums + leaves:
        items[item.rating_key] = item


def _titles(rng: np.random.Generator, count: int) -> list[str]:
    combos = [f"The {a} {n}" if k % 2 == 0 else f"{a} {n}" for k, (a, n) in
              enumerate((a, n) for a in ADJ for n in NOUN)]
    titles = [c + s for s in SUFFIX for c in (combos[i] for i in rng.permutation(len(combos)))]
    if count > len(titles):
        titles += [f"Untitled Project {i}" for i in range(count - len(titles))]
    out = titles[:count]
    out.reverse()  # popped from the end
    return out


def _updated(rating_key: int, added: int, now: int) -> int:
    """Metadata refreshes within three days of the addition (a hash, not a draw: there are many items)."""
    return max(added, min(now - 30, added + rating_key * 7919 % (3 * DAY)))


def _unique_ints(rng: np.random.Generator, low: int, high: int, count: int) -> np.ndarray:
    values = rng.integers(low, high, size=count * 2)
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)][:count]


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join("0123456789abcdef"[int(i)] for i in rng.integers(0, 16, size=n))


def _token(rng: np.random.Generator, n: int) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789_-"
    return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), size=n))


# -- retention ------------------------------------------------------------------------------------

def _retention(world: World) -> None:
    """Collections and `marquee:<username>` labels that give the retention policy a queue to show.

    Chosen from the plays already drawn, with a random stream of its own: no play is added and no earlier
    draw moves, so every number other tests and golden files check stays the same.
    """
    rng = np.random.default_rng([world.seed, 6])
    _show_collections(world, rng)
    viewers = {u.user_id: u.username for u in world.users if u.note in ("", "owner") and u.username}
    last = _last_watched(world, viewers)
    by_item: dict[int, dict[int, int]] = {}
    for (uid, rk), stop in last.items():
        by_item.setdefault(rk, {})[uid] = stop
    cols = world.plays.cols
    played = np.unique(cols["user_id"] * (1 << 32) + cols["rating_key"])  # every (user, item) with any play
    movies = sorted(rk for rk, i in world.items.items() if i.type == "movie" and rk in by_item)
    used: set[int] = set()
    now = world.now

    def never_played(uid: int, rk: int) -> bool:
        code = uid * (1 << 32) + rk
        at = int(np.searchsorted(played, code))
        return at == len(played) or int(played[at]) != code

    def pick(candidates: Iterable[tuple]) -> tuple | None:
        found = list(itertools.islice(candidates, 500))
        return found[int(rng.integers(len(found)))] if found else None

    def label(rk: int, uids: tuple[int, ...]) -> None:
        item = world.items[rk]
        item.labels = item.labels + tuple(f"{RETENTION_PREFIX}{viewers[u]}" for u in uids)
        used.add(rk)

    def first_and(rk: int) -> list[tuple[int, int]]:
        """(user, stop) of the item's viewers, first finisher first."""
        return sorted(by_item[rk].items(), key=lambda p: (p[1], p[0]))

    # Two viewers who both finished it, the later a few days ago: queued, and due once the notice period ends.
    both = pick((rk, first_and(rk)[0][0], b) for rk in movies for b, stop in first_and(rk)[1:]
                if 2 * DAY <= now - stop <= 10 * DAY)
    if both:
        label(both[0], both[1:])
    # Finished less than a day ago by the one viewer it is assigned to: queued, still inside the deletion delay.
    fresh = pick((rk, u) for rk in movies if rk not in used for u, stop in first_and(rk) if now - stop < 20 * 3600)
    if fresh:
        label(fresh[0], fresh[1:])
    # One viewer finished it, the other never played it: it stays.
    half = pick((rk, first_and(rk)[0][0], b) for rk in movies if rk not in used for b in sorted(viewers)
                if never_played(b, rk))
    if half:
        label(half[0], half[1:])
    # A show one viewer is partway through: the episodes they finished queue, the later ones stay.
    show = pick(_partway(world, last, viewers))
    if show:
        label(show[0], show[1:])


def _show_collections(world: World, rng: np.random.Generator) -> None:
    shows = world.section_items(2, "show")
    for item in shows:
        if item.title in SPECIAL_SHOWS[2:]:
            item.collections = ("Anime",)
    for i in rng.permutation(len(shows))[:3].tolist():
        shows[i].collections = shows[i].collections + ("Comfort TV",)


def _last_watched(world: World, viewers: dict[int, str]) -> dict[tuple[int, int], int]:
    """(user, item) -> when the user's last watched play (watched_status 1) of it stopped."""
    cols = world.plays.cols
    sel = (cols["watched_status"] >= 1) & np.isin(cols["user_id"], list(viewers))
    users, keys, stops = cols["user_id"][sel], cols["rating_key"][sel], cols["stopped"][sel]
    order = np.lexsort((stops, keys, users))
    users, keys, stops = users[order], keys[order], stops[order]
    last = np.ones(len(users), dtype=bool)
    last[:-1] = (users[1:] != users[:-1]) | (keys[1:] != keys[:-1])
    return dict(zip(zip(users[last].tolist(), keys[last].tolist()), stops[last].tolist()))


def _partway(world: World, last: dict[tuple[int, int], int], viewers: dict[int, str]) -> Iterator[tuple[int, int]]:
    """(show, user) where the user finished at least two episodes but not the show's last one."""
    final: dict[int, Item] = {}  # each show's last episode
    finished: dict[tuple[int, int], set[int]] = {}
    for item in world.items.values():
        if item.type == "episode":
            show = item.grandparent_rating_key
            if show not in final or (item.parent_index or 0, item.index or 0) > (final[show].parent_index or 0,
                                                                                   final[show].index or 0):
                final[show] = item
    for uid, rk in last:
        item = world.items[rk]
        if item.type == "episode" and uid in viewers:
            finished.setdefault((item.grandparent_rating_key, uid), set()).add(rk)
    for (show, uid), done in sorted(finished.items()):
        if len(done) >= 2 and final[show].rating_key not in done:
            yield show, uid
