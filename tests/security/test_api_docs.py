"""API docs are not public in production (reference-defects S13; api.md §7), beyond
tests/platform/test_settings.py (``API_DOCS_PUBLIC`` defaults to DEBUG) and
tests/platform/test_health_docs_admin.py (anonymous schema request refused, assets served locally): every docs
URL — schema, Swagger UI, ReDoc — refuses anonymous callers (401, also with a garbage cookie) and accounts
without operator rights (403), and serves operators. (Public docs with ``API_DOCS_PUBLIC=true``:
test_docs_are_served_from_local_assets_when_public.)
"""

import pytest

from accounts.tokens import issue_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
DOCS = ("/api/schema/", "/api/docs/", "/api/redoc/")


@pytest.mark.parametrize("url", DOCS)
def test_docs_are_for_operators_only(url, client, make_user, operator, settings):
    assert settings.API_DOCS_PUBLIC is False  # as in production (DEBUG off)
    assert client.get(url).status_code == 401
    client.cookies["access_token"] = "garbage"
    assert client.get(url).status_code == 401
    client.cookies.clear()
    member = make_user("member@example.org", is_staff=False)
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {issue_tokens(member).access}").status_code == 403
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {issue_tokens(operator).access}")
    assert response.status_code == 200
