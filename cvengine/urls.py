from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views
from .permissions import CanReadAPIDocs

# GET only: the docs views would render OPTIONS through their HTML templates.
_docs = {"permission_classes": [CanReadAPIDocs], "http_method_names": ["get", "head"]}

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/candidates/", include("candidates.urls")),
    path("api/candidates/", include("outreach.candidate_urls")),
    path("api/outreach/", include("outreach.urls")),
    path("api/organizations/", include("organizations.urls")),
    path("api/candidates/", include("organizations.candidate_urls")),
    path("api/attribution/", include("organizations.attribution_urls")),
    path("api/health/", views.health, name="health"),
    path("api/files/<str:token>/", views.signed_file, name="signed-file"),
    path("api/schema/", SpectacularAPIView.as_view(**_docs), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", **_docs), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", **_docs), name="redoc"),
]
