"""Routes under /api/organizations/ (api.md §4). Fixed paths come before ``<organization_id>/``; a malformed
id is matched as a string and answered with the contract's 404 body by the view."""

from django.urls import path

from . import views

app_name = "organizations"

urlpatterns = [
    path("", views.OrganizationListCreateView.as_view(), name="list"),
    path("contacts/", views.ContactListView.as_view(), name="contact-list"),
    path("contacts/<str:contact_id>/", views.ContactDetailView.as_view(), name="contact-detail"),
    path("import/", views.OrganizationImportView.as_view(), name="import"),
    path("import/contacts/", views.ContactImportView.as_view(), name="import-contacts"),
    path("import/status/<str:task_id>/", views.ImportStatusView.as_view(), name="import-status"),
    path("import/status/<str:task_id>/rejects/", views.ImportRejectsView.as_view(), name="import-rejects"),
    path("<str:organization_id>/", views.OrganizationDetailView.as_view(), name="detail"),
    path("<str:organization_id>/contacts/", views.OrganizationContactsView.as_view(), name="contacts"),
]
