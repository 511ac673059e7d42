"""Every route of the project is checked against the declared access table (S1): anonymous callers get 401,
accounts of the wrong class 403, before any validation. See permission_table.py to add entries."""

import re
import uuid
from dataclasses import dataclass

import pytest
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from rest_framework.test import APIClient

from . import permission_table as table
from .conftest import bearer

METHODS = ("get", "post", "put", "patch", "delete")
REFUSED = (401, 403)


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str | None
    callback: object

    @property
    def key(self) -> str:
        """The ACCESS entry for this route: its name if declared, else its pattern."""
        for candidate in (self.name, self.pattern):
            if candidate and candidate in table.ACCESS:
                return candidate
        return self.name or self.pattern


def walk(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in table.EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry, prefix + str(entry.pattern), inner)
        else:
            name = f"{namespace}{entry.name}" if entry.name else None
            yield Route(prefix + str(entry.pattern), name, entry.callback)


ROUTES = list(walk())
_SAMPLE_ID = str(uuid.uuid4())


def _sample(converter: str, name: str) -> str:
    if converter == "int":
        return "1"
    if name == "format":
        return "json"
    if converter == "uuid" or name == "pk" or name.endswith("id"):
        return _SAMPLE_ID  # a well-formed id of nothing: the view's own 404 after the permission check
    return "x"


def sample_path(route: Route) -> str:
    """A concrete path for the pattern: converters and regex groups filled with sample values."""
    if route.key in table.SAMPLE_PATHS:
        return table.SAMPLE_PATHS[route.key]
    path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: _sample(m.group(1) or "str", m.group(2)), route.pattern)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: _sample("str", m.group(1)), path)  # re_path, routers
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + path


def methods(route: Route) -> list[str]:
    view_class = getattr(route.callback, "cls", None)
    if view_class is None:
        return ["get"]  # plain Django view
    actions = getattr(route.callback, "actions", None)  # DRF viewset routes
    if actions:
        return [m for m in METHODS if m in actions]
    return [m for m in METHODS if hasattr(view_class, m)]


def call(client, method, path, **extra):
    if method in ("get", "delete"):
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(path, {}, format="json", **extra)


@pytest.mark.sqlite
def test_every_route_is_declared_and_every_entry_is_a_route():
    undeclared = sorted(
        {r.pattern + (f"  (name {r.name!r})" if r.name else "") for r in ROUTES if r.key not in table.ACCESS}
    )
    assert not undeclared, "Routes missing from tests/accounts/permission_table.py ACCESS:\n" + "\n".join(
        undeclared
    )
    stale = sorted(set(table.ACCESS) - {r.key for r in ROUTES})
    assert not stale, f"ACCESS entries matching no route: {stale}"
    bad = {key: cls for key, cls in table.ACCESS.items() if cls not in table.ACCESS_CLASSES}
    assert not bad, f"Unknown access classes: {bad}"


@pytest.fixture
def callers(make_user, superuser):
    return {
        "anonymous": {},
        "normal user": bearer(make_user("plain@example.org", is_staff=False)),
        "operator": bearer(make_user("staff@example.org", is_staff=True)),
        "superuser": bearer(superuser),
    }


def check_route(route: Route, callers: dict) -> list[str]:
    access = table.ACCESS[route.key]
    path = sample_path(route)
    try:
        assert resolve(path).func is route.callback
    except (Resolver404, AssertionError):
        return [f"sample path {path} does not resolve to this route: add it to SAMPLE_PATHS"]
    problems = []

    def expect(caller, method, allowed, status=None):
        client = APIClient(raise_request_exception=False)
        if caller == "anonymous" and allowed:
            client.cookies["access_token"] = "garbage"  # public: credentials are ignored
        response = call(client, method, path, **callers[caller])
        code = response.status_code
        if allowed and (code in REFUSED or code >= 500):
            problems.append(f"{method.upper()} as {caller}: {code}, expected access")
        elif not allowed and code != status:
            problems.append(f"{method.upper()} as {caller}: {code}, expected {status}")

    refused_by_class = {
        table.AUTHENTICATED: {"anonymous": 401},
        table.OPERATOR: {"anonymous": 401, "normal user": 403},
        table.SUPERUSER: {"anonymous": 401, "normal user": 403, "operator": 403},
    }
    allowed_by_class = {
        table.AUTHENTICATED: "normal user",
        table.OPERATOR: "operator",
        table.SUPERUSER: "superuser",
    }
    for method in methods(route):
        if access == table.PUBLIC:
            expect("anonymous", method, allowed=True)
        elif access in (table.SIGNED_TOKEN, table.PROVIDER):
            expect("anonymous", method, allowed=False, status=403)
            expect("operator", method, allowed=False, status=403)
        else:
            for caller, status in refused_by_class[access].items():
                expect(caller, method, allowed=False, status=status)
    if access in allowed_by_class:  # the permitted caller gets past the checks (a safe method only)
        expect(allowed_by_class[access], "get" if "get" in methods(route) else "options", allowed=True)
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if r.key in table.ACCESS], ids=lambda r: r.key)
def test_route_access(route, callers):
    problems = check_route(route, callers)
    assert not problems, f"{route.pattern} declared {table.ACCESS[route.key]!r}:\n" + "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_forgotten_permission_is_caught(callers, monkeypatch):
    """The checker itself: an operator route that lets everyone in is reported."""
    from rest_framework.permissions import AllowAny

    from accounts.views import ActivityListView

    monkeypatch.setattr(ActivityListView, "permission_classes", [AllowAny])
    route = next(r for r in ROUTES if r.name == "accounts:activity")
    problems = check_route(route, callers)
    assert any("GET as anonymous" in p for p in problems)
    assert any("GET as normal user" in p for p in problems)
