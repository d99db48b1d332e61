"""plexapi's MyPlexAccount against the plex.tv sandbox: users, shares and the removals Marquee makes."""

from __future__ import annotations

import pytest
import requests
from plexapi.exceptions import NotFound

from pipeline.clients.plex import connect
from pipeline.sandbox.seed import generate
from pipeline.settings import PlexSettings


@pytest.fixture
def world():
    return generate(seed=1, users=24, plays=300)


@pytest.fixture
def plex(world, pms, plextv):
    return connect(PlexSettings(url=pms.url, token=world.owner_token, plextv_url=plextv.url, timeout_seconds=5))


def user(world, note):
    return next(u for u in world.users if u.note == note)


def ours(world, plex_user):
    return [s for s in plex_user.servers if s.machineIdentifier == world.machine_identifier]


def test_account_loads_with_subscription_and_profile(plex, world):
    _, account = plex
    owner = world.owner
    assert (account.id, account.username, account.email) == (owner.user_id, owner.username, owner.email)
    assert account.subscriptionActive is True and account.subscriptionPlan == "lifetime"
    assert account.authToken == world.owner_token  # plexapi re-reads its token from this attribute
    assert account.profileDefaultAudioLanguage == "en"


def test_users_lists_friends_and_home_users(plex, world):
    _, account = plex
    users = {u.id: u for u in account.users()}
    expected = {u.user_id for u in world.users if not u.is_owner and (u.has_share or u.is_home)}
    assert set(users) == expected and user(world, "deleted").user_id not in users
    kids = users[user(world, "managed").user_id]
    assert kids.home is True and kids.restricted == "1" and kids.email == "" and kids.username == ""
    jordan = users[user(world, "home").user_id]
    assert jordan.home is True and jordan.restricted == "0" and jordan.email == "jordan@example.org"
    assert account.user("Kids").id == kids.id and account.user("Grandpa Joe").home is True
    assert account.user("jordan@example.org").id == jordan.id
    with pytest.raises(NotFound):
        account.user("morganlee")


def test_users_carry_this_servers_share(plex, world):
    _, account = plex
    users = {u.id: u for u in account.users()}
    for u in world.users:
        if u.user_id in users:
            (share,) = ours(world, users[u.user_id])
            assert share.id == u.share_id and share.allLibraries is u.all_libraries
            assert share.pending is (u.accepted_at is None)
            assert share.numLibraries == (3 if u.all_libraries else len(u.section_ids))


def test_shared_servers_raw_xml_has_dates_and_sections(plex, world):
    _, account = plex
    data = account.query(f"https://plex.tv/api/servers/{world.machine_identifier}/shared_servers")
    shares = {int(e.attrib["userID"]): e for e in data.findall("SharedServer")}
    assert set(shares) == {u.user_id for u in world.users if u.has_share and not u.is_owner}
    kids = user(world, "managed")
    raw = shares[kids.user_id]
    assert raw.attrib["id"] == str(kids.share_id) and raw.attrib["allLibraries"] == "0"
    assert int(raw.attrib["invitedAt"]) == kids.invited_at and int(raw.attrib["acceptedAt"]) == kids.accepted_at
    assert {s.attrib["key"]: s.attrib["shared"] for s in raw.findall("Section")} == {"1": "0", "2": "1", "3": "0"}
    assert raw.attrib["email"] == ""
    assert shares[user(world, "pending").user_id].attrib["acceptedAt"] == "0"


def test_update_friend_with_no_sections_changes_nothing(plex, plextv):
    """plexapi 4.18.3 skips the request when `sections` is empty, whatever removeSections says."""
    server, account = plex
    plextv.clear_log()
    account.updateFriend(account.user("caseym"), server, sections=[], removeSections=True)
    assert plextv.requests_to("/api/servers") == [] and plextv.mutations == []


def test_update_friend_removes_only_this_servers_share(plex, plextv, world):
    server, account = plex
    other = plextv.other_servers[0]
    friend = next(u for u in world.users if u.user_id in other.shares and u.has_share and not u.is_home)
    plex_user = account.user(friend.username)
    assert {s.machineIdentifier for s in plex_user.servers} == {world.machine_identifier, other.machine_identifier}
    plextv.clear_log()
    account.updateFriend(plex_user, server, sections=server.library.sections(), removeSections=True)
    changes = [(r.method, r.path) for r in plextv.requests if r.method != "GET"]
    assert changes == [("DELETE", f"/api/servers/{world.machine_identifier}/shared_servers/{friend.share_id}")]
    assert not [r for r in plextv.requests if other.machine_identifier in r.path]
    assert [(m.action, m.user_id, m.machine_identifier, m.share_id) for m in plextv.mutations] == [
        ("unshare", friend.user_id, world.machine_identifier, friend.share_id)]
    assert friend.has_share is False and friend.user_id in other.shares
    after = account.user(friend.username)  # still a friend, through the other server only
    assert [s.machineIdentifier for s in after.servers] == [other.machine_identifier]
    data = account.query(f"https://plex.tv/api/servers/{world.machine_identifier}/shared_servers")
    assert str(friend.user_id) not in {e.attrib["userID"] for e in data}


def test_remove_friend_uses_v2_sharings(plex, plextv, world):
    _, account = plex
    friend = user(world, "idle 45d")
    account.removeFriend(account.user(friend.username))
    assert [(r.method, r.path) for r in plextv.requests if r.method == "DELETE"] == [
        ("DELETE", f"/api/v2/sharings/{friend.user_id}")]
    assert plextv.mutations[0].action == "remove_friend" and friend.has_share is False
    assert friend.user_id not in {u.id for u in account.users()}
    assert all(friend.user_id not in o.shares for o in plextv.other_servers)


def test_remove_home_user(plex, plextv, world):
    _, account = plex
    kids = user(world, "managed")
    account.removeHomeUser(account.user("Kids"))
    assert plextv.requests_to(f"/api/home/users/{kids.user_id}", "DELETE")
    assert kids.is_home is False and kids.user_id not in {u.id for u in account.users()}


def test_old_friends_route_is_gone(plextv, world):
    response = requests.delete(f"{plextv.url}/api/friends/{user(world, 'idle 10d').user_id}",
                               headers={"X-Plex-Token": world.owner_token})
    assert response.status_code == 410 and plextv.mutations == []


def test_resources_point_at_the_sandbox_server(plex, pms, world):
    _, account = plex
    resource = account.resource(world.machine_identifier)
    assert resource.name == world.server_name and resource.presence is True
    assert [c.uri for c in resource.connections] == [pms.url]
    assert len(account.resources()) == 2


def test_share_sections_and_pending_invites(plex, world):
    _, account = plex
    misaki = user(world, "unicode name")
    (share,) = ours(world, account.user("misaki"))
    assert {s.key for s in share.sections() if s.shared} == set(misaki.section_ids)
    assert [i.username for i in account.pendingInvites(includeReceived=False)] == [user(world, "pending").username]


def test_unknown_share_is_not_found(plex, world):
    _, account = plex
    with pytest.raises(NotFound):
        account.query(f"https://plex.tv/api/servers/{world.machine_identifier}/shared_servers/777",
                      account._session.delete)


@pytest.mark.parametrize("path", ["/api/v2/user", "/api/users/", "/api/servers/{mid}",
                                  "/api/servers/{mid}/shared_servers", "/api/v2/resources"])
def test_plextv_routes_need_the_token(plextv, world, path):
    url = plextv.url + path.format(mid=world.machine_identifier)
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers={"X-Plex-Token": "wrong"}).status_code == 401
    assert requests.get(url, headers={"X-Plex-Token": world.owner_token}).status_code == 200


def test_removals_need_the_token(plextv, world):
    friend = user(world, "idle 10d")
    assert requests.delete(f"{plextv.url}/api/v2/sharings/{friend.user_id}").status_code == 401
    assert requests.delete(f"{plextv.url}/api/servers/{world.machine_identifier}/shared_servers/"
                           f"{friend.share_id}").status_code == 401
    assert plextv.mutations == [] and friend.has_share is True
