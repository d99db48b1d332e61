"""plex.tv on loopback: the account, friends, home users and shares plexapi 4.18.3 reads and removes.

The owner also has other servers ("other_servers") that share with some of the same friends, so a test
can prove an unshare touched this server's share and nothing else.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pipeline.sandbox.http import Request, Response, SandboxServer
from pipeline.sandbox.plex_xml import XML, element, flag, render
from pipeline.sandbox.plextv_pins import PinDesk
from pipeline.sandbox.world import SandboxUser, World


@dataclass
class Mutation:
    """One change plex.tv made, for tests to assert on."""

    action: str                        # unshare | remove_friend | remove_home_user | update_filters
    user_id: int | None
    machine_identifier: str | None = None
    share_id: int | None = None


@dataclass
class OtherServer:
    """A server of the owner's that Marquee does not manage."""

    name: str
    machine_identifier: str
    sections: list[tuple[int, int, str, str]]          # (plex.tv id, key, title, type)
    shares: dict[int, int] = field(default_factory=dict)  # user_id -> shared_servers id


def _digest(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


class PlexTvSandbox(SandboxServer):
    """plex.tv routes over a World; every route wants X-Plex-Token == world.owner_token."""

    name = "plextv"

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, pms_url: str | None = None,
                 other_servers: int = 1) -> None:
        super().__init__(host, port)
        self.world = world
        self.pms_url = pms_url            # advertised as the server's connection in /api/v2/resources
        self.mutations: list[Mutation] = []
        self.pins = PinDesk(world.owner_token, world.now)  # the PIN sign-in `invoke login` uses
        self.owns_servers = True          # False: the account owns no server (/api/v2/resources lists none)
        self._lock_world = threading.Lock()
        mid = world.machine_identifier
        self._section_base = 20_000_000 + int(_digest(mid)[:6], 16) % 100_000 * 100
        self.other_servers = [self._other_server(n) for n in range(other_servers)]
        self._removed: set[int] = set()   # friendships ended through plex.tv
        self._unshared: set[int] = set()  # lost this server's share but are still friends
        # Every other friend also has a share on the owner's other servers.
        for n, u in enumerate(sorted((u for u in world.users if self.is_friend(u) and not u.is_restricted),
                                     key=lambda u: u.user_id)):
            for other in self.other_servers:
                if n % 2 == 0:
                    other.shares[u.user_id] = int(_digest(other.machine_identifier, u.user_id)[:7], 16)
        any_mid = r"([^/]+)"
        self._routes = [
            ("GET", re.compile(r"/api/v2/user/?"), self._account),
            ("GET", re.compile(r"/api/v2/ping"), lambda r: Response(200, render(element("pong", None)), XML)),
            ("GET", re.compile(r"/api/users/?"), self._users),
            ("GET", re.compile(r"/api/v2/resources"), self._resources),
            ("GET", re.compile(r"/api/invites/requested/?"), self._invites),
            ("GET", re.compile(r"/api/invites/requests/?"), lambda r: self._xml(element("MediaContainer", size="0"))),
            ("GET", re.compile(rf"/api/servers/{any_mid}/?"), self._server),
            ("GET", re.compile(rf"/api/servers/{any_mid}/shared_servers/?"), self._shared_servers),
            ("GET", re.compile(rf"/api/servers/{any_mid}/shared_servers/(\d+)"), self._shared_servers),
            ("DELETE", re.compile(rf"/api/servers/{any_mid}/shared_servers/(\d+)"), self._unshare),
            ("DELETE", re.compile(r"/api/v2/sharings/(\d+)"), self._remove_friend),
            ("PUT", re.compile(r"/api/v2/sharings/(\d+)"), self._update_filters),
            ("DELETE", re.compile(r"/api/home/users/(\d+)"), self._remove_home_user),
        ]

    def _other_server(self, n: int) -> OtherServer:
        mid = _digest(self.world.machine_identifier, "other", n)[:40]
        base = 30_000_000 + n * 1000
        sections = [(base + 1, 1, "Home Videos", "movie"), (base + 2, 2, "Cartoons", "show")]
        return OtherServer(f"{self.world.server_name} Cabin{' ' + str(n + 1) if n else ''}", mid, sections)

    # -- state helpers ------------------------------------------------------------------------------------
    def is_friend(self, u: SandboxUser) -> bool:
        """Listed by /api/users/: read from the world each time, so users added later show up too."""
        if u.is_owner or u.user_id in self._removed:
            return False
        return (u.is_home or self._shared(u) or u.user_id in self._unshared
                or any(u.user_id in o.shares for o in self.other_servers))

    @staticmethod
    def _shared(u: SandboxUser) -> bool:
        return u.has_share and u.share_id is not None and not u.is_owner

    def _tv_section_id(self, section_id: int) -> int:
        return self._section_base + section_id

    def _user_sections(self, u: SandboxUser) -> list[int]:
        if u.all_libraries:
            return [s.section_id for s in self.world.sections]
        return [s for s in u.section_ids if any(x.section_id == s for x in self.world.sections)]

    def _user(self, user_id: int) -> SandboxUser | None:
        return next((u for u in self.world.users if u.user_id == user_id), None)

    # -- dispatch -----------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/api/friends"):
            return Response(410, b'{"error":"This endpoint has been removed"}', "application/json")
        pin_answer = self.pins.handle(request)  # the PIN routes are how a client gets a token: none needed
        if pin_answer is not None:
            return pin_answer
        token = request.headers.get("x-plex-token") or request.query.get("X-Plex-Token")
        if token != self.world.owner_token:
            return self._error(401, 1001, "User could not be authenticated")
        path_found = False
        for verb, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match:
                path_found = True
                if verb == ("GET" if request.method == "HEAD" else request.method):
                    with self._lock_world:
                        return handler(request, *match.groups())
        if path_found:
            return self._error(405, 1000, "Method not supported by the sandbox")
        return self._error(404, 1002, "Not found")

    @staticmethod
    def _xml(root) -> Response:
        return Response(200, render(root), XML)

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        root = element("errors")
        element("error", root, code=code, message=message, status=status)
        return Response(status, render(root), XML)

    # -- reads ----------------------------------------------------------------------------------------------
    def _account(self, request: Request) -> Response:
        w, owner = self.world, self.world.owner
        joined = min([u.invited_at for u in w.users if u.invited_at] or [w.now]) - 400 * 86_400
        home_size = 1 + sum(1 for u in w.users if u.is_home and self.is_friend(u))
        root = element(
            "user", id=owner.user_id, uuid=_digest("uuid", owner.user_id)[:16], username=owner.username,
            title=owner.username, email=owner.email or "", friendlyName=owner.friendly_name.strip() or owner.username,
            locale="", confirmed="1", joinedAt=joined, emailOnlyAuth="0", hasPassword="1", protected="0",
            thumb=owner.thumb, authToken=w.owner_token, mailingListStatus="active", mailingListActive="1",
            scrobbleTypes="", country="US", subscriptionDescription="Plex Pass (lifetime)", restricted="0",
            anonymous="", home="1", guest="0", homeSize=home_size, homeAdmin="1", maxHomeSize="15",
            rememberExpiresAt=w.now + 90 * 86_400, adsConsent="", adsConsentSetAt="", adsConsentReminderAt="",
            experimentalFeatures="0", twoFactorEnabled="0", backupCodesCreated="0")
        sub = element("subscription", root, active="1", status="Active", plan="lifetime",
                      paymentService="braintree",
                      subscribedAt=datetime.fromtimestamp(joined, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
        features = element("features", sub)
        for feature in ("pass", "sync", "webhooks", "home"):
            element("feature", features, id=feature)
        element("profile", root, autoSelectAudio="1", defaultAudioLanguage="en", defaultSubtitleLanguage="en",
                autoSelectSubtitle="0", defaultSubtitleAccessibility="0", defaultSubtitleForces="0")
        element("entitlements", root, all="1")
        element("role", element("roles", root), id="plexpass")
        element("services", root)
        return self._xml(root)

    def _user_server(self, parent, u: SandboxUser) -> None:
        sections = self._user_sections(u)
        element("Server", parent, id=u.share_id, serverId=int(_digest(self.world.machine_identifier)[:7], 16),
                machineIdentifier=self.world.machine_identifier, name=self.world.server_name,
                lastSeenAt=self.world.now, numLibraries=len(sections), allLibraries=flag(u.all_libraries),
                owned="1", pending=flag(u.accepted_at is None))

    def _users(self, request: Request) -> Response:
        listed = sorted((u for u in self.world.users if self.is_friend(u)), key=lambda u: u.user_id)
        root = element("MediaContainer", friendlyName="myPlex", identifier="com.plexapp.plugins.myplex",
                       machineIdentifier=self.world.machine_identifier, totalSize=len(listed), size=len(listed))
        for u in listed:
            # Managed users have no plex.tv login: no username and no e-mail, only a title.
            el = element("User", root, id=u.user_id, title=u.username,
                         username="" if u.is_restricted else u.username, email=u.email or "",
                         recommendationsPlaylistId="", thumb=u.thumb, protected="0", home=flag(u.is_home),
                         allowTuners="0", allowSync="1", allowCameraUpload="0", allowChannels="0",
                         allowSubtitleAdmin="0", filterAll="", filterMovies="", filterMusic="", filterPhotos="",
                         filterTelevision="", restricted=flag(u.is_restricted))
            if self._shared(u):
                self._user_server(el, u)
            for other in self.other_servers:
                if u.user_id in other.shares:
                    element("Server", el, id=other.shares[u.user_id],
                            serverId=int(_digest(other.machine_identifier)[:7], 16),
                            machineIdentifier=other.machine_identifier, name=other.name,
                            lastSeenAt=self.world.now, numLibraries=len(other.sections), allLibraries="1",
                            owned="1", pending="0")
        return self._xml(root)

    def _invites(self, request: Request) -> Response:
        pending = [u for u in self.world.users if self._shared(u) and u.accepted_at is None
                   and self.is_friend(u)]
        root = element("MediaContainer", friendlyName="myPlex", identifier="com.plexapp.plugins.myplex",
                       size=len(pending))
        for u in pending:
            inv = element("Invite", root, id=u.user_id, createdAt=u.invited_at, email=u.email or "", friend="1",
                          friendlyName=u.username, home="0", server="1", thumb=u.thumb, username=u.username)
            element("Server", inv, name=self.world.server_name, numLibraries=len(self._user_sections(u)))
        return self._xml(root)

    def _server(self, request: Request, mid: str) -> Response:
        w = self.world
        if mid == w.machine_identifier:
            name, sections = w.server_name, [(self._tv_section_id(s.section_id), s.section_id, s.title, s.type)
                                             for s in w.sections]
        else:
            other = next((o for o in self.other_servers if o.machine_identifier == mid), None)
            if other is None:
                return self._error(404, 1002, "Server not found")
            name, sections = other.name, other.sections
        root = element("MediaContainer", friendlyName="myPlex", identifier="com.plexapp.plugins.myplex",
                       machineIdentifier=mid, size="1")
        server = element("Server", root, accessToken=w.owner_token, name=name, address="127.0.0.1", port="32400",
                         version=w.version, scheme="http", host="127.0.0.1", localAddresses="127.0.0.1",
                         machineIdentifier=mid, createdAt=w.now - 400 * 86_400, updatedAt=w.now, owned="1",
                         synced="0")
        for sid, key, title, type_ in sections:
            element("Section", server, id=sid, key=key, type=type_, title=title)
        return self._xml(root)

    def _shared_servers(self, request: Request, mid: str, share_id: str | None = None) -> Response:
        w = self.world
        if mid != w.machine_identifier:
            other = next((o for o in self.other_servers if o.machine_identifier == mid), None)
            if other is None:
                return self._error(404, 1002, "Server not found")
            return self._other_shares(other, share_id)
        shares = sorted((u for u in w.users if self._shared(u)), key=lambda u: u.share_id or 0)
        if share_id is not None:
            shares = [u for u in shares if u.share_id == int(share_id)]
            if not shares:
                return self._error(404, 1002, "Shared server not found")
        root = element("MediaContainer", friendlyName="myPlex", identifier="com.plexapp.plugins.myplex",
                       machineIdentifier=mid, size=len(shares))
        for u in shares:
            chosen = set(self._user_sections(u))
            # acceptedAt is "0" while the invite is pending, as plex.tv reports it.
            el = element("SharedServer", root, id=u.share_id, username=u.username, email=u.email or "",
                         userID=u.user_id, accessToken=w.share_token(u.user_id),
                         name=w.server_name, acceptedAt=u.accepted_at or 0, invitedAt=u.invited_at or 0,
                         allowSync="1", allowCameraUpload="0", allowChannels="0", allowTuners="0",
                         allowSubtitleAdmin="0", owned="1", allLibraries=flag(u.all_libraries), filterAll="",
                         filterMovies="", filterMusic="", filterPhotos="", filterTelevision="")
            for s in w.sections:
                element("Section", el, id=self._tv_section_id(s.section_id), key=s.section_id, title=s.title,
                        type=s.type, shared=flag(s.section_id in chosen))
        return self._xml(root)

    def _other_shares(self, other: OtherServer, share_id: str | None) -> Response:
        rows = [(uid, sid) for uid, sid in sorted(other.shares.items()) if share_id is None or sid == int(share_id)]
        root = element("MediaContainer", friendlyName="myPlex", identifier="com.plexapp.plugins.myplex",
                       machineIdentifier=other.machine_identifier, size=len(rows))
        for uid, sid in rows:
            u = self._user(uid)
            el = element("SharedServer", root, id=sid, username=u.username if u else "", email=(u.email if u else "")
                         or "", userID=uid, name=other.name, acceptedAt=self.world.now - 86_400,
                         invitedAt=self.world.now - 2 * 86_400, owned="1", allLibraries="1")
            for tv_id, key, title, type_ in other.sections:
                element("Section", el, id=tv_id, key=key, title=title, type=type_, shared="1")
        return self._xml(root)

    def _resources(self, request: Request) -> Response:
        w = self.world
        created = datetime.fromtimestamp(w.now - 400 * 86_400, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        seen = datetime.fromtimestamp(w.now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        servers = [(w.server_name, w.machine_identifier, self.pms_url)] + [
            (o.name, o.machine_identifier, None) for o in self.other_servers]
        if not self.owns_servers:
            servers = []
        root = element("MediaContainer", size=len(servers))
        for name, mid, url in servers:
            res = element("resource", root, name=name, product="Plex Media Server", productVersion=w.version,
                          platform="Linux", platformVersion="6.1.0", device="PC", clientIdentifier=mid,
                          createdAt=created, lastSeenAt=seen, provides="server", ownerId="0", sourceTitle="",
                          publicAddress="127.0.0.1", accessToken=w.owner_token, owned="1", home="0", synced="0",
                          relay="0", presence=flag(url is not None), httpsRequired="0", publicAddressMatches="1",
                          dnsRebindingProtection="0", natLoopbackSupported="1")
            conns = element("connections", res)
            if url:
                host, _, port = url.split("://", 1)[1].partition(":")
                element("connection", conns, protocol=url.split("://", 1)[0], address=host,
                        port=port.rstrip("/") or "32400", uri=url, local="1", relay="0", IPv6="0")
        return self._xml(root)

    # -- writes -------------------------------------------------------------------------------------------------
    def _unshare(self, request: Request, mid: str, share_id: str) -> Response:
        sid = int(share_id)
        if mid == self.world.machine_identifier:
            u = next((u for u in self.world.users if self._shared(u) and u.share_id == sid), None)
            if u is None:
                return self._error(404, 1002, "Shared server not found")
            u.has_share = False
            self._unshared.add(u.user_id)
            self.mutations.append(Mutation("unshare", u.user_id, mid, sid))
            return Response(200, b"", XML)
        other = next((o for o in self.other_servers if o.machine_identifier == mid), None)
        uid = next((k for k, v in (other.shares.items() if other else ()) if v == sid), None)
        if other is None or uid is None:
            return self._error(404, 1002, "Shared server not found")
        del other.shares[uid]
        self.mutations.append(Mutation("unshare", uid, mid, sid))
        return Response(200, b"", XML)

    def _remove_friend(self, request: Request, user_id: str) -> Response:
        u = self._user(int(user_id))
        if u is None or not self.is_friend(u):
            return self._error(404, 1002, "User not found")
        # Ending a friendship ends every share with every server of the owner.
        self._removed.add(u.user_id)
        u.has_share = False
        for other in self.other_servers:
            other.shares.pop(u.user_id, None)
        self.mutations.append(Mutation("remove_friend", u.user_id))
        return Response(200, b"", XML)

    def _update_filters(self, request: Request, user_id: str) -> Response:
        u = self._user(int(user_id))
        if u is None or not self.is_friend(u):
            return self._error(404, 1002, "User not found")
        self.mutations.append(Mutation("update_filters", int(user_id)))
        return Response(200, b"", XML)

    def _remove_home_user(self, request: Request, user_id: str) -> Response:
        u = self._user(int(user_id))
        if u is None or not u.is_home or not self.is_friend(u):
            return self._error(404, 1002, "Home user not found")
        u.is_home = False
        u.has_share = False
        self._removed.add(u.user_id)
        for other in self.other_servers:
            other.shares.pop(u.user_id, None)
        self.mutations.append(Mutation("remove_home_user", u.user_id))
        return Response(200, b"", XML)
