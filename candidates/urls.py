"""Routes under /api/candidates/ (api.md §3). Outreach routes under the same prefix live in outreach.candidate_urls.

Fixed paths come before ``<candidate_id>/``: a malformed id is matched as a string and answered with the
contract's 404 body by the view, never by Django's HTML 404.
"""

from django.urls import path

from . import upload, views

app_name = "candidates"

urlpatterns = [
    path("", views.CandidateListView.as_view(), name="list"),
    path("upload/", upload.upload_view, name="upload"),
    path("batches/", views.BatchListView.as_view(), name="batch-list"),
    path("batches/<str:batch_id>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path("batches/<str:batch_id>/delete/", views.BatchDeleteView.as_view(), name="batch-delete"),
    path(
        "batches/<str:batch_id>/retry-failed/",
        views.BatchRetryFailedView.as_view(),
        name="batch-retry-failed",
    ),
    path("<str:candidate_id>/", views.CandidateDetailView.as_view(), name="detail"),
    path("<str:candidate_id>/update/", views.CandidateUpdateView.as_view(), name="update"),
    path("<str:candidate_id>/delete/", views.CandidateDeleteView.as_view(), name="delete"),
    path("<str:candidate_id>/rewrite/", views.CandidateRewriteView.as_view(), name="rewrite"),
    path(
        "<str:candidate_id>/rewrite/status/",
        views.CandidateRewriteStatusView.as_view(),
        name="rewrite-status",
    ),
    path("<str:candidate_id>/retry/", views.CandidateRetryView.as_view(), name="retry"),
]
