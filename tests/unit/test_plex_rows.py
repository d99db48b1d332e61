"""The Plex boundary: real plexapi objects built from PMS / plex.tv XML turn into plain rows."""

import time
from datetime import datetime, timezone
from xml.etree.ElementTree import fromstring

import pytest
from plexapi.myplex import MyPlexUser

import pipeline.clients.plex_rows as rows
@pytest.fixture
def local_zone(monkeypatch):
    """Run with a local zone that has DST, as a Plex host often does, then restore."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def item(xml, section_id=1):
    return rows.item_row(fromstring(xml), section_id)


def test_epoch_attributes_become_aware_utc_whatever_the_local_zone(local_zone):
    # 1699162200 and 1699165800 are both 01:30 in New York (the DST fold): a local round trip could merge them.
    for epoch in (1_700_000_000, 1_699_162_200, 1_699_165_800):
        row = item(f'<Video ratingKey="1" type="movie" title="m" addedAt="{epoch}" updatedAt="{epoch + 60}"/>')
        assert row["added_at"] == datetime.fromtimestamp(epoch, timezone.utc)
        assert row["added_at"].utcoffset().total_seconds() == 0
        assert row["updated_at"] == datetime.fromtimestamp(epoch + 60, timezone.utc)


def test_movie_row_sums_every_part_and_keeps_titles_raw():
    row = item("""
        <Video ratingKey="5" type="movie" title="&lt;script&gt;alert(1)&lt;/script&gt; &amp; 千と千尋 🎬"
               guid="plex://movie/5" thumb="/library/metadata/5/thumb/9" addedAt="1700000000"
               updatedAt="1700000100" year="2001" duration="7200000">
          <Media id="1"><Part id="1" size="100"/><Part id="2" size="50"/></Media>
          <Media id="2"><Part id="3" size="7"/></Media>
          <Genre tag="Drama"/><Label tag="keep"/><Label tag="4k"/>
        </Video>""")
    assert row["title"] == "<script>alert(1)</script> & 千と千尋 🎬"
    assert row["size_bytes"] == 157
    assert row["labels"] == ["keep", "4k"]
    assert row["genres"] == ["Drama"]
    assert (row["year"], row["duration_ms"], row["guid"], row["thumb"]) == (
        2001, 7200000, "plex://movie/5", "/library/metadata/5/thumb/9")
    assert row["parent_rating_key"] is None and row["index"] is None and row["parent_title"] is None


def test_episode_row_keeps_both_parents():
    row = item("""
        <Video ratingKey="30" type="episode" title="Pilot" parentRatingKey="20" grandparentRatingKey="10"
               grandparentTitle="Show" parentTitle="Season 1" index="1" parentIndex="1" addedAt="1700000000">
          <Media><Part size="1000"/></Media>
        </Video>""", section_id=2)
    assert (row["parent_rating_key"], row["grandparent_rating_key"], row["section_id"]) == (20, 10, 2)
    assert (row["index"], row["parent_index"], row["parent_title"], row["grandparent_title"]) == (
        1, 1, "Season 1", "Show")
    assert row["size_bytes"] == 1000 and row["labels"] == [] and row["updated_at"] is None


def test_parents_have_no_size_and_leaves_without_media_have_none():
    season = item('<Directory ratingKey="20" type="season" title="Season 1" index="1" parentRatingKey="10" '
                  'parentTitle="Show"><Media><Part size="5"/></Media></Directory>')
    assert season["size_bytes"] is None
    bare = item('<Track ratingKey="40" type="track" title="t" parentRatingKey="39"/>', 3)
    assert bare["size_bytes"] is None
    assert not rows.has_sizes([bare]) and rows.has_sizes([season]) and rows.has_sizes([])


def test_collections_and_keyless_elements_are_not_items():
    assert item('<Directory ratingKey="9" type="collection" title="Bond" subtype="movie"/>') is None
    assert item('<Video type="movie" title="no key"/>') is None


def test_section_content_changed_prefers_the_change_counter():
    section = fromstring('<Directory key="2" type="show" title="TV" updatedAt="1602523323" '
                         'contentChangedAt="117133678"><Location path="/tv"/></Directory>')
    assert rows.section_row(section) == dict(section_id=2, title="TV", type="show",
                                             content_changed="117133678", item_count=None)
    older = fromstring('<Directory key="3" type="show" title="Old" updatedAt="1602523323"/>')
    assert rows.section_row(older)["content_changed"] == "1602523323"


def test_item_table_keeps_types_for_empty_lists_and_nulls():
    table = rows.table([item('<Video ratingKey="1" type="movie" title="m"/>')], rows.ITEM_SCHEMA)
    assert table.schema == rows.ITEM_SCHEMA
    assert table.column("labels").to_pylist() == [[]] and table.column("size_bytes").to_pylist() == [None]
    assert rows.table([], rows.ITEM_SCHEMA).num_rows == 0


SHARED = """<MediaContainer machineIdentifier="m1" size="3">
  <SharedServer id="501" userID="11" username="ann" email="ann@example.org" accessToken="SECRET"
                invitedAt="1600000000" acceptedAt="1600000500" allLibraries="0">
    <Section id="900001" key="1" title="Movies" type="movie" shared="1"/>
    <Section id="900002" key="2" title="TV" type="show" shared="0"/>
    <Section id="900003" key="3" title="Music" type="artist" shared="1"/>
  </SharedServer>
  <SharedServer id="502" userID="12" username="bob" email="" invitedAt="1600001000" acceptedAt="0"
                allLibraries="1"/>
  <SharedServer id="503" userID="0" username="" email="new@example.org" invitedAt="1600002000" acceptedAt="0"/>
</MediaContainer>"""


def test_share_rows_read_dates_sections_and_pending():
    shares = rows.share_rows(fromstring(SHARED))
    assert set(shares) == {11, 12}  # an invitation without an account has no user to key on
    ann = shares[11]
    assert ann["share_id"] == 501 and ann["section_ids"] == [1, 3] and ann["all_libraries"] is False
    assert ann["invited_at"] == datetime.fromtimestamp(1600000000, timezone.utc)
    assert ann["accepted_at"] == datetime.fromtimestamp(1600000500, timezone.utc) and ann["pending"] is False
    assert shares[12]["pending"] is True and shares[12]["accepted_at"] is None and shares[12]["email"] is None
    assert "SECRET" not in repr(shares)


class Owner:
    id, username, title, email = 1, "owner", "Owner", "owner@example.org"


def test_user_rows_keep_only_people_with_access_here():
    users = fromstring("""<MediaContainer>
      <User id="11" title="ann" username="ann" email="ann@example.org" home="0" restricted="0"/>
      <User id="13" title="Kid" username="" email="" home="1" restricted="1"/>
      <User id="14" title="elsewhere" username="elsewhere" email="e@example.org" home="0" restricted="0"/>
    </MediaContainer>""")
    friends = [MyPlexUser(None, u, initpath=MyPlexUser.key) for u in users]
    out = {r["user_id"]: r for r in rows.user_rows(Owner, friends, rows.share_rows(fromstring(SHARED)))}
    assert set(out) == {1, 11, 12, 13}  # 14 shares only other servers; 12 is a pending invite
    assert out[1]["is_owner"] and not out[11]["is_owner"]
    assert out[13]["is_home"] and out[13]["is_restricted"]
    assert out[13]["email"] is None and out[13]["username"] is None and out[13]["title"] == "Kid"
    assert out[13]["share_id"] is None and out[13]["pending"] is False
    assert out[11]["share_id"] == 501 and out[11]["section_ids"] == [1, 3]
    assert out[12]["pending"] is True and out[12]["username"] == "bob"
    table = rows.table(list(out.values()), rows.USER_SCHEMA)
    assert table.num_rows == 4 and table.schema.field("invited_at").type.tz == "UTC"
