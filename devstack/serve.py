"""`make serve`: the whole system on 127.0.0.1 for a person to click through (and for tests/browser/).

One loopback origin serves
- the HTTP API routes of DESIGN.md, dispatched as API Gateway v2 events to the real handlers
  (`DevStack.dispatcher`, the same code path as the dev stack's HTTP adapter; agent routes get the
  claims a real JWT authorizer would add);
- the static pages of widget/ (agent panel, citizen call page, built scripts in widget/dist/), each
  with a strict Content-Security-Policy header;
- dev-only pages and routes under /dev/: a SIMULATED agent desktop (stands in for Amazon Connect's
  routing, the agent workspace with its @amazon-connect SDK clients, and a Streams CCP) fed by the flow
  simulator (`DevStack.call`), and a demo wallet page that discloses clearly fake attributes in place
  of the Yivi app (`DevStack.wallet`). Several simulated agents (one page each, `?agent=<NameID>`) share
  the contacts: offers, accept/reject/miss, after-contact work, clear, cold and warm transfers and a
  supervisor's monitoring; the Connect stand-in and the contact events follow (`DevStack.assign`,
  `DevStack.transfer`, `DevStack.contact_event`).
  With several municipalities (issue 14) the citizen page picks one from `GET /tenants`, and a
  desktop signs its agent in at one municipality's dev identity provider (`?tenant=<id>`, default:
  the tenant whose dev agent it is, else the default tenant): the panel's API calls then carry the
  claims that IdP's token would (its provider, its group), the API resolves the agent's tenant from
  those claims alone, and the desktop shows only contacts that arrived on that tenant's instance.
The demo IRMA server runs on its own loopback port, as the real one runs on its own origin; the
citizen page talks to it for yivi-frontend's status (CORS, like irmago).

Nothing here logs requests (paths can carry session ids) or personal data.

    python -m devstack.serve [--port 8080]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import mimetypes
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from devstack.identity import DEV_AGENT as DEFAULT_AGENT
from devstack.identity import cognito_access_claims
from devstack.loopback import LoopbackServer, QuietHandler

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "widget"
STATIC_DIRS = ("agent", "citizen", "dev", "dist")
API_PREFIXES = ("/sessions", "/agent/disclosure", "/agent/clear", "/irma/callback/")
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")

# Clearly fake demo data (the demo wallet's credential store).
DEMO_CREDENTIALS = {
    "pbdf.gemeente.personalData.bsn": "999990019",
    "pbdf.gemeente.personalData.fullname": "Demo Burger",
    "pbdf.sidn-pbdf.mobilenumber.mobilenumber": "+31612345678",
}
DEMO_CALLER = "+31612345678"
WALLET_SESSION_SECONDS = 300
ACTIONS = (
    "offer",
    "accept",
    "reject",
    "miss",
    "hangup",
    "complete",
    "transfer",
    "consult",
    "monitor",
    "unmonitor",
)
AGENT_NAME = re.compile(r"^[A-Za-z0-9@._+-]{1,64}$")


def csp_for(page: str, irma_origin: str, style_hashes: list[str]) -> str:
    """The Content-Security-Policy of one page. No inline script anywhere, no third-party origin."""
    connect = ["'self'"]
    style = ["'self'"]
    frame_src = "'none'"
    frame_ancestors = "'none'"
    if page == "citizen":
        connect.append(irma_origin)  # yivi-frontend follows the IRMA session at sessionPtr.u
        style += style_hashes  # the one <style> element yivi-frontend injects (hash from widget/build.mjs)
    elif page == "agent":
        frame_ancestors = "'self'"  # the (simulated) agent workspace frames it; production: the Connect origin
    elif page == "dev":
        frame_src = "'self'"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            f"style-src {' '.join(style)}",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            f"frame-src {frame_src}",
            f"frame-ancestors {frame_ancestors}",
            "form-action 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


@dataclass
class SimContact:
    """A contact segment as Connect's routing would hold it (the simulation's own bookkeeping)."""

    contact_id: str
    attributes: dict[str, str]
    tenant: str = ""  # whose instance it arrived on (Connect routes it only to that instance's agents)
    state: str = "queued"  # queued | offered | connected | acw
    agent: str | None = None  # offered to / accepted by (a NameID = Connect username)
    initial_contact_id: str = ""
    previous_contact_id: str | None = None
    monitors: set[str] = field(default_factory=set)  # supervisors monitoring it

    def view(self, agent: str) -> dict[str, Any]:
        role = "agent" if self.agent == agent else "monitoring"
        return {
            "contact_id": self.contact_id,
            "initial_contact_id": self.initial_contact_id or self.contact_id,
            "state": self.state,
            "role": role,
            "attributes": self.attributes,
        }


@dataclass
class WalletSession:
    ref: str
    purpose: str
    session_ptr: dict[str, Any]
    created: float
    tenant: str = ""


@dataclass
class DevState:
    """What the simulated agent workspace, the demo wallet and the fake sign-in know; dev only, in memory."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    contacts: dict[str, SimContact] = field(default_factory=dict)
    sessions: dict[str, WalletSession] = field(default_factory=dict)
    oidc_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (challenge, redirect_uri)
    oidc_tokens: set[str] = field(default_factory=set)
    agent_requests: list[str] = field(default_factory=list)  # per agent-route request: "valid"/"invalid"/"none"
    agent_tokens: dict[str, str] = field(default_factory=dict)  # simulated agent's token -> NameID
    agents: list[str] = field(default_factory=list)  # the simulated agents who opened a desktop
    agent_tenants: dict[str, str] = field(default_factory=dict)  # NameID -> the tenant whose IdP signed it in
    agent_calls: list[tuple[str, str]] = field(default_factory=list)  # (simulated agent or "", agent route)


class ServeApp:
    """The HTTP front of `make serve`; `stack` is a started `DevStack`."""

    def __init__(self, stack: Any, port: int = 0, widget_dir: Path = WIDGET) -> None:
        self.stack = stack
        self.widget_dir = widget_dir
        self.dev = DevState()
        self.credentials = dict(DEMO_CREDENTIALS)  # the demo wallet's store (tests put canaries here)
        self.caller = DEMO_CALLER
        # Connect's COMPLETED contact events for the simulated contacts (tests switch them off to see
        # what the panel's own clear does)
        self.contact_events = True
        irma = urlsplit(stack.irma.url)
        self.irma_origin = f"{irma.scheme}://{irma.netloc}"
        csp_file = widget_dir / "dist" / "csp.json"
        if not (widget_dir / "dist" / "citizen.js").exists() or not csp_file.exists():
            raise RuntimeError("widget/dist is missing: run `make widget-build` first")
        self.style_hashes: list[str] = json.loads(csp_file.read_text())["citizen_style_hashes"]
        self._server = LoopbackServer(_Handler, self, port=port)

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> ServeApp:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    # -- dev routes (simulated workspace + demo wallet) ----------------------------------------------
    def remember_session(self, purpose: str, body: Any, tenant: str = "") -> None:
        if isinstance(body, dict) and isinstance(body.get("sessionPtr"), dict):
            ref = secrets.token_hex(6)
            tenant = tenant if tenant in self.stack.tenants else self.stack.tenants[0]
            with self.dev.lock:
                self.dev.sessions[ref] = WalletSession(ref, purpose, body["sessionPtr"], time.time(), tenant)

    def wallet_sessions(self) -> list[dict[str, Any]]:
        now = time.time()
        with self.dev.lock:
            for ref in [r for r, s in self.dev.sessions.items() if now - s.created > WALLET_SESSION_SECONDS]:
                del self.dev.sessions[ref]
            items = sorted(self.dev.sessions.values(), key=lambda s: -s.created)
        return [
            {
                "ref": s.ref,
                "purpose": s.purpose,
                "tenant": self.display_name(s.tenant),
                "age_s": int(now - s.created),
            }
            for s in items
        ]

    # -- tenants (municipalities) -------------------------------------------------------------------
    def display_name(self, tenant: str) -> str:
        config = self.stack.tenant_config.get(tenant)
        return str(config.display_name) if config is not None else tenant

    def tenant_of_number(self, number: str) -> str | None:
        """The tenant whose phone number the app dials (as Connect knows which instance a number is on)."""
        for tenant, config in self.stack.tenant_config.items():
            if config.phone_number == number:
                return str(tenant)
        return None

    def tenant_of_agent(self, agent: str) -> str:
        """The tenant a simulated agent signed in at; before any sign-in: the tenant whose dev agent it
        is, else the default tenant (the agents of the single-tenant demo and the older tests)."""
        with self.dev.lock:
            signed_in = self.dev.agent_tenants.get(agent)
        if signed_in is not None:
            return signed_in
        for tenant, name in self.stack.dev_agents.items():
            if name == agent:
                return str(tenant)
        return str(self.stack.tenants[0])

    def sign_in(self, agent: str | None, tenant: str | None) -> tuple[str, str] | None:
        """A simulated agent signs in at a tenant's dev IdP (None: as `tenant_of_agent`); no agent name:
        that tenant's dev agent. Returns (agent, tenant), None for an unknown tenant."""
        if tenant is not None and tenant not in self.stack.tenants:
            return None
        if not agent:
            agent = self.stack.dev_agents[tenant or self.stack.tenants[0]]
        tenant = tenant or self.tenant_of_agent(agent)
        with self.dev.lock:
            self.dev.agent_tenants[agent] = tenant
        return agent, tenant

    def wallet_disclose(self, ref: str, decline: bool) -> dict[str, Any] | None:
        with self.dev.lock:
            session = self.dev.sessions.pop(ref, None)
        if session is None:
            return None
        if decline:
            self.stack.wallet.disclose(session.session_ptr, self.credentials, status="CANCELLED")
            return {}
        tel = self.stack.wallet.disclose(session.session_ptr, self.credentials)
        if not tel:
            return {}
        number, _, digits = tel.removeprefix("tel:").partition(",")
        return {"number": number, "digits": digits}

    # -- fake OpenID provider for the panel's sign-in (dev only; the dispatcher adds claims anyway) ----
    def oidc_authorize(self, query: dict[str, list[str]]) -> str | None:
        one = {k: v[0] for k, v in query.items() if v}
        redirect = one.get("redirect_uri", "")
        if (
            one.get("response_type") != "code"
            or one.get("code_challenge_method") != "S256"
            or not one.get("code_challenge")
            or not redirect.startswith(self.url + "/agent/")
        ):
            return None
        code = secrets.token_urlsafe(16)
        with self.dev.lock:
            self.dev.oidc_codes[code] = (one["code_challenge"], redirect)
        return f"{redirect}?{urlencode({'code': code, 'state': one.get('state', '')})}"

    def oidc_token(self, form: dict[str, list[str]]) -> dict[str, Any] | None:
        one = {k: v[0] for k, v in form.items() if v}
        with self.dev.lock:
            issued = self.dev.oidc_codes.pop(one.get("code", ""), None)
        if issued is None or one.get("grant_type") != "authorization_code" or one.get("redirect_uri") != issued[1]:
            return None
        digest = hashlib.sha256(one.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != issued[0]:
            return None
        token = "dev-access-" + secrets.token_urlsafe(16)
        with self.dev.lock:
            self.dev.oidc_tokens.add(token)
        return {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def note_agent_auth(self, header: str | None) -> None:
        if not header:
            seen = "none"
        else:
            with self.dev.lock:
                seen = "valid" if header.removeprefix("Bearer ") in self.dev.oidc_tokens else "invalid"
        with self.dev.lock:
            self.dev.agent_requests.append(seen)

    def place_call(self, digits: str, tenant: str | None = None) -> str:
        """A call to `tenant`'s number (None: the default tenant's), through that tenant's flows."""
        tenant = tenant or self.stack.tenants[0]
        call = self.stack.call(digits, caller=self.caller, tenant=tenant)
        with self.dev.lock:
            self.dev.contacts[call.contact_id] = SimContact(
                call.contact_id, dict(call.attributes), tenant, initial_contact_id=call.initial_contact_id
            )
        return str(call.contact_id)

    def queue(self) -> list[dict[str, Any]]:
        with self.dev.lock:
            return [
                {"contact_id": c.contact_id, "attributes": c.attributes, "state": c.state, "tenant": c.tenant}
                for c in self.dev.contacts.values()
            ]

    # -- the simulated desktop: one simulated agent per page ----------------------------------------
    def agent_token(self, agent: str) -> str:
        """A token for a simulated agent's panel: API requests carrying it get the claims the agent's
        tenant's IdP would put in its token (`claims_for`)."""
        token = "dev-agent-" + secrets.token_urlsafe(16)
        with self.dev.lock:
            self.dev.agent_tokens[token] = agent
            if agent not in self.dev.agents:
                self.dev.agents.append(agent)
        return token

    def claims_for(self, header: str | None, path: str = "") -> dict[str, Any] | None:
        """The authorizer claims for an agent request: a simulated agent's, or (None) the dev agent's."""
        token = (header or "").removeprefix("Bearer ")
        with self.dev.lock:
            agent = self.dev.agent_tokens.get(token)
            self.dev.agent_calls.append((agent or "", path))
        if not agent:
            return None
        config = self.stack.tenant_config[self.tenant_of_agent(agent)]
        # what that tenant's IdP asserts, federated into the user pool (as DevStack.agent_claims)
        return cognito_access_claims(agent, groups=(config.group,), provider=config.idp)

    def desk(self, agent: str) -> dict[str, Any]:
        """What the agent's desktop shows: only contacts on its own tenant's instance, and only its
        own tenant's colleagues."""
        tenant = self.tenant_of_agent(agent)
        with self.dev.lock:
            if agent not in self.dev.agents:
                self.dev.agents.append(agent)
            contacts = [c for c in self.dev.contacts.values() if c.tenant == tenant]
            agents = list(self.dev.agents)
        agents = [a for a in agents if self.tenant_of_agent(a) == tenant]
        return {
            "agent": agent,
            "tenant": tenant,
            "tenant_name": self.display_name(tenant),
            "agents": agents,
            "queue": [
                {"contact_id": c.contact_id, "attributes": c.attributes} for c in contacts if c.state == "queued"
            ],
            "contacts": [c.view(agent) for c in contacts if c.agent == agent or agent in c.monitors],
            "others": [
                {"contact_id": c.contact_id, "agent": c.agent}
                for c in contacts
                if c.state == "connected" and c.agent not in (None, agent) and agent not in c.monitors
            ],
        }

    def act(self, contact_id: str, action: str, agent: str, target: str | None = None) -> bool:
        """One step of Connect's routing or an agent's action; the Connect stand-in and contact events
        follow what real Connect would record."""
        stack = self.stack
        with self.dev.lock:
            contact = self.dev.contacts.get(contact_id)
            if contact is None:
                return False
            state, owner = contact.state, contact.agent
        # Connect routes a contact only within its instance: another tenant's agent cannot touch it
        if self.tenant_of_agent(agent) != contact.tenant or (target and self.tenant_of_agent(target) != contact.tenant):
            return False
        if action == "offer" and state == "queued":
            stack.connect.offer(contact_id, agent)
            self._set(contact, state="offered", agent=agent)
        elif action == "accept" and (state == "queued" or (state == "offered" and owner == agent)):
            stack.assign(contact_id, agent)
            self._set(contact, state="connected", agent=agent)
        elif action in ("reject", "miss") and state == "offered" and owner == agent:
            stack.connect.withdraw(contact_id)  # back to the queue, for the next agent
            self._set(contact, state="queued", agent=None)
        elif action == "hangup" and state == "connected" and owner == agent:
            stack.contact_event(contact_id, "DISCONNECTED")
            self._set(contact, state="acw")
        elif action == "complete" and owner == agent and state in ("connected", "acw"):
            with self.dev.lock:
                self.dev.contacts.pop(contact_id, None)
            if self.contact_events:
                stack.contact_event(contact_id, "COMPLETED")
        elif action in ("transfer", "consult") and state == "connected" and owner == agent and target:
            segment = stack.transfer(contact_id)  # a new segment, same InitialContactId
            stack.connect.offer(segment, target)
            with self.dev.lock:
                self.dev.contacts[segment] = SimContact(
                    segment,
                    dict(contact.attributes),
                    contact.tenant,
                    state="offered",
                    agent=target,
                    initial_contact_id=contact.initial_contact_id or contact_id,
                    previous_contact_id=contact_id,
                )
            if action == "transfer":  # cold: the first agent leaves at once, into after-contact work
                self._set(contact, state="acw")
        elif action == "monitor" and state == "connected" and owner != agent:
            with self.dev.lock:
                contact.monitors.add(agent)
        elif action == "unmonitor":
            with self.dev.lock:
                contact.monitors.discard(agent)
        else:
            return False
        return True

    def _set(self, contact: SimContact, **changes: Any) -> None:
        with self.dev.lock:
            for name, value in changes.items():
                setattr(contact, name, value)

    def accept(self, contact_id: str, agent: str | None = None) -> bool:
        """That agent (None: the dev agent of the contact's tenant) accepts the contact."""
        if agent is None:
            with self.dev.lock:
                contact = self.dev.contacts.get(contact_id)
            agent = self.stack.dev_agents.get(contact.tenant, DEFAULT_AGENT) if contact else DEFAULT_AGENT
        return self.act(contact_id, "accept", agent)

    def complete(self, contact_id: str) -> bool:
        """The contact (every agent's part of it) ends: Connect's COMPLETED event."""
        with self.dev.lock:
            contact = self.dev.contacts.pop(contact_id, None)
        if contact is None:
            return False
        self.stack.contact_event(contact_id, "COMPLETED")
        return True


class _Handler(QuietHandler):
    @property
    def app(self) -> ServeApp:
        return self.server.app  # type: ignore[attr-defined,no-any-return]

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _json_body(self) -> Any:
        raw = self.read_body()
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def _api(self) -> None:
        body = self.read_body()
        text = body.decode("utf-8", "replace") if body else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        claims = None
        if self._path().startswith("/agent/"):
            self.app.note_agent_auth(self.headers.get("Authorization"))
            claims = self.app.claims_for(self.headers.get("Authorization"), self._path())
        status, out_headers, payload = self.app.stack.dispatcher.dispatch(
            self.command, self.path, text, headers, claims=claims
        )
        if self.command == "POST" and self._path() == "/sessions" and status == 201:
            try:
                request = json.loads(text or "{}")
                purpose = str(request.get("purpose", ""))
                self.app.remember_session(purpose, json.loads(payload), str(request.get("tenant") or ""))
            except (ValueError, AttributeError):
                pass
        content_type = out_headers.pop("content-type", "application/json")
        self.send(status, payload, content_type, headers={"Cache-Control": "no-store", **SECURITY_HEADERS})

    def _dev_api(self) -> None:
        app = self.app
        parts = [p for p in self._path().split("/") if p][2:]  # after /dev/api
        ok = {"Cache-Control": "no-store"}
        if self.command == "GET" and parts == ["queue"]:
            self.send(200, {"contacts": app.queue()}, headers=ok)
        elif self.command == "GET" and parts == ["wallet", "sessions"]:
            self.send(200, {"sessions": app.wallet_sessions()}, headers=ok)
        elif self.command == "POST" and parts == ["wallet", "disclose"]:
            body = self._json_body() or {}
            result = app.wallet_disclose(str(body.get("ref", "")), bool(body.get("decline")))
            self.send(404 if result is None else 200, result or {}, headers=ok)
        elif self.command == "POST" and parts == ["call"]:
            body = self._json_body() or {}
            digits = str(body.get("digits", ""))
            if digits and not digits.isdigit():
                self.send(400, {"error": "digits"}, headers=ok)
                return
            # the number dialled decides the tenant (the wallet dials the tel: link's number); the
            # desktop's "call without Yivi" dials its own tenant's number
            tenant = body.get("tenant")
            if body.get("number") is not None:
                tenant = app.tenant_of_number(str(body["number"]))
            if tenant is not None and tenant not in app.stack.tenants:
                self.send(400, {"error": "tenant"}, headers=ok)
                return
            self.send(200, {"contact_id": app.place_call(digits, tenant)}, headers=ok)
        elif self.command == "GET" and parts == ["desk"]:
            query = parse_qs(urlsplit(self.path).query)
            signed = self._sign_in(query.get("agent", [""])[0], query.get("tenant", [""])[0])
            if signed is None:
                return
            self.send(200, app.desk(signed[0]), headers=ok)
        elif self.command == "POST" and parts == ["agent-token"]:
            body = self._json_body() or {}
            signed = self._sign_in(str(body.get("agent") or ""), str(body.get("tenant") or ""))
            if signed is None:
                return
            self.send(200, {"token": app.agent_token(signed[0]), "agent": signed[0]}, headers=ok)
        elif self.command == "POST" and len(parts) == 3 and parts[0] == "contacts" and parts[2] in ACTIONS:
            body = self._json_body() or {}
            agent = str(body.get("agent") or DEFAULT_AGENT)
            target = body.get("to")
            if not AGENT_NAME.match(agent) or (target is not None and not AGENT_NAME.match(str(target))):
                self.send(400, {"error": "agent"}, headers=ok)
                return
            if parts[2] == "complete" and "agent" not in body:
                done = app.complete(parts[1])  # the whole contact ends (older pages, the tests' cleanup)
            else:
                done = app.act(parts[1], parts[2], agent, str(target) if target else None)
            self.send(204 if done else 404, b"", headers=ok)
        else:
            self.send(404, {"error": "not_found"}, headers=ok)

    def _sign_in(self, agent: str, tenant: str) -> tuple[str, str] | None:
        """The simulated agent (default: the chosen tenant's dev agent, else the default tenant's) signed
        in at the chosen tenant's dev IdP; answers 400 and returns None when either is malformed."""
        ok = {"Cache-Control": "no-store"}
        if (agent and not AGENT_NAME.match(agent)) or (tenant and not TENANT_ID.match(tenant)):
            self.send(400, {"error": "agent"}, headers=ok)
            return None
        if not agent and not tenant:
            agent = DEFAULT_AGENT
        signed = self.app.sign_in(agent or None, tenant or None)
        if signed is None:
            self.send(400, {"error": "tenant"}, headers=ok)
        return signed

    def _oidc(self) -> None:
        if self.command == "GET" and self._path() == "/dev/oidc/authorize":
            target = self.app.oidc_authorize(parse_qs(urlsplit(self.path).query))
            if target is None:
                self.send(400, {"error": "invalid_request"})
            else:
                self.send(302, b"", "text/plain", headers={"Location": target, "Cache-Control": "no-store"})
        elif self.command == "POST" and self._path() == "/dev/oidc/token":
            tokens = self.app.oidc_token(parse_qs(self.read_body().decode("utf-8", "replace")))
            self.send(
                400 if tokens is None else 200,
                tokens or {"error": "invalid_grant"},
                headers={"Cache-Control": "no-store"},
            )
        else:
            self.send(404, {"error": "not_found"})

    def _static(self) -> None:
        path = self._path()
        if path in ("", "/"):
            self.send(302, b"", "text/plain", headers={"Location": "/dev/index.html"})
            return
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in STATIC_DIRS or any(p in (".", "..") or p.startswith(".") for p in parts):
            self.send(404, b"not found", "text/plain")
            return
        if path.endswith("/"):
            parts.append("index.html")
        root = (self.app.widget_dir / parts[0]).resolve()
        file = (root / Path(*parts[1:])).resolve() if len(parts) > 1 else root
        if not file.is_relative_to(root) or not file.is_file():
            self.send(404, b"not found", "text/plain")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        headers = {**SECURITY_HEADERS, "Cache-Control": "no-store"}
        if file.suffix == ".html":
            headers["Content-Security-Policy"] = csp_for(parts[0], self.app.irma_origin, self.app.style_hashes)
            if parts[0] in ("agent", "dev"):
                # the sign-in popup (opened by the panel frame in the workspace) must keep its opener
                headers.pop("Cross-Origin-Opener-Policy")
        self.send(200, file.read_bytes(), content_type, headers=headers)

    def do_GET(self) -> None:
        path = self._path()
        if path.startswith("/dev/oidc/"):
            self._oidc()
        elif path.startswith("/dev/api/"):
            self._dev_api()
        elif path.startswith("/sessions/") or path == "/tenants":  # /tenants: the municipality picker
            self._api()
        else:
            self._static()

    do_HEAD = do_GET

    def do_POST(self) -> None:
        path = self._path()
        if path.startswith("/dev/oidc/"):
            self._oidc()
        elif path.startswith("/dev/api/"):
            self._dev_api()
        elif path.startswith(API_PREFIXES):
            self._api()
        else:
            self.send(404, {"error": "not_found"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="idbellen on localhost: API, pages, simulated agent workspace")
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080)")
    args = parser.parse_args(argv)

    from devstack import DevStack

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DevStack() as stack:
        app = ServeApp(stack, port=args.port).start()
        try:
            print(f"idbellen is running on {app.url}  (127.0.0.1 only; Ctrl-C stops it)")
            print(f"  start here:                {app.url}/dev/index.html")
            print(f"  citizen call page:         {app.url}/citizen/index.html")
            print(f"  demo wallet (the 'phone'): {app.url}/dev/wallet.html")
            print(f"  simulated agent workspace: {app.url}/dev/ccp.html")
            print("All data is fake demo data; nothing is kept after you stop this process.")
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
        finally:
            app.stop()


if __name__ == "__main__":
    main()
