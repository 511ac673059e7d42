import pytest

from cvengine import views

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_health_cache():
    views._cache.update(at=0.0, result=None)
    yield
    views._cache.update(at=0.0, result=None)


@pytest.mark.sqlite
def test_health_ok_and_cached(client, django_assert_max_num_queries):
    first = client.get("/api/health/")
    assert first.status_code == 200
    assert first.json() == {"status": "ok", "checks": {"db": "ok", "broker": "ok", "storage": "ok"}}
    with django_assert_max_num_queries(0):
        assert client.get("/api/health/").json() == first.json()


def test_health_degraded_when_broker_is_down(client, monkeypatch):
    def broker_down():
        raise ConnectionRefusedError("[Errno 111] Connection refused 10.0.0.5:6379")

    monkeypatch.setitem(views.CHECKS, "broker", broker_down)
    response = client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"db": "ok", "broker": "fail", "storage": "ok"},
    }
    assert b"10.0.0.5" not in response.content


def test_health_check_that_hangs_is_cut_off(client, monkeypatch):
    import time

    monkeypatch.setattr(views, "CHECK_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setitem(views.CHECKS, "storage", lambda: time.sleep(2))
    started = time.monotonic()
    response = client.get("/api/health/")
    assert time.monotonic() - started < 1.5
    assert response.status_code == 503 and response.json()["checks"]["storage"] == "fail"


def test_health_ignores_garbage_credentials(client):
    client.cookies["access_token"] = "garbage"
    assert client.get("/api/health/", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 200


@pytest.mark.sqlite
def test_openapi_schema_is_valid(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "openapi: 3" in text and "/api/health/" in text


def test_docs_are_served_from_local_assets_when_public(client, settings):
    settings.API_DOCS_PUBLIC = True
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert client.get("/api/schema/").status_code == 200


def test_docs_need_an_operator_when_not_public(client, operator_client, settings):
    assert settings.API_DOCS_PUBLIC is False
    assert client.get("/api/schema/").status_code == 401
    assert operator_client.get("/api/schema/").status_code == 200


def test_admin_login_page_and_superuser_access(client, superuser):
    assert client.get("/admin/login/").status_code == 200
    client.force_login(superuser)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/outreach/outboxmessage/").status_code == 200


def test_operator_admin_cannot_manage_users(client, operator):
    client.force_login(operator)
    assert client.get("/admin/accounts/user/").status_code == 403
