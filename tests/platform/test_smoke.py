import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.sqlite
def test_health_reports_every_dependency(client):
    response = client.get("/api/health/")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"db": "ok", "broker": "ok", "storage": "ok"}}
