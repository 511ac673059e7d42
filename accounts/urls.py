from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("me/", views.MeView.as_view(), name="me"),
    path("profile/update/", views.ProfileUpdateView.as_view(), name="profile-update"),
    path("password/update/", views.PasswordUpdateView.as_view(), name="password-update"),
    path("forgot-password/", views.ForgotPasswordView.as_view(), name="forgot-password"),
    path("verify-otp/", views.VerifyOTPView.as_view(), name="verify-otp"),
    path("reset-password/", views.ResetPasswordView.as_view(), name="reset-password"),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("activity/", views.ActivityListView.as_view(), name="activity"),
    path("activity/mark-read/", views.ActivityMarkReadView.as_view(), name="activity-mark-read"),
]
