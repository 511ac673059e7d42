"""A8–A10 password reset: OTP by e-mail, single-use reset token, no account enumeration (S2, S3)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import PasswordResetOTP, PasswordResetToken, User

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quiet-lighthouse-58"


def verify(client, email, code):
    return client.post("/api/auth/verify-otp/", {"email": email, "otp": code}, format="json")


def reset(client, email, token, password=NEW_PASSWORD, confirm=None):
    data = {
        "email": email,
        "reset_token": token,
        "new_password": password,
        "new_password_confirm": confirm or password,
    }
    return client.post("/api/auth/reset-password/", data, format="json")


@pytest.mark.sqlite
def test_full_reset_flow_revokes_sessions(operator, logged_in, request_otp):
    session = logged_in(operator)
    client = APIClient()
    response, code = request_otp(client, "  OPERATOR@example.org ")
    assert response.status_code == 200
    body = response.json()
    assert body["retry_after"] == 60 and body["remaining_requests"] == 4 and body["detail"]
    assert code is not None and len(code) == 6

    # Only a peppered hash is stored, never the code.
    otp = PasswordResetOTP.objects.get(email="operator@example.org")
    assert code not in otp.otp_hash and otp.otp_hash == services.otp_hash(operator.email, code)

    verified = verify(client, operator.email, f" {code} ")
    assert verified.status_code == 200
    token = verified.json()["reset_token"]
    assert verified.json() == {"detail": "OTP verified.", "reset_token": token, "expires_in": 600}
    assert len(token) >= 43 and not PasswordResetOTP.objects.filter(email=operator.email).exists()
    stored = PasswordResetToken.objects.get(email=operator.email)
    assert stored.token_hash != token and stored.token_hash == services.reset_token_hash(token)

    done = reset(client, operator.email, token)
    assert done.status_code == 200
    assert done.json() == {"detail": "Password reset successfully. Please log in with your new password."}
    operator.refresh_from_db()
    assert operator.check_password(NEW_PASSWORD) and operator.token_version == 1
    # Every earlier session is gone: the access cookie and the refresh cookie.
    assert session.post("/api/auth/token/refresh/").status_code == 401
    assert login(APIClient(), operator.email, NEW_PASSWORD).status_code == 200
    # Single use.
    again = reset(client, operator.email, token, password="Another-lantern-64")
    assert again.status_code == 400 and again.json()["code"] == "reset_token_invalid"


def test_otp_email_is_plain_and_html_with_escaped_values(make_user, request_otp, settings):
    settings.AGENCY_NAME = "Smith & <Sons>"
    make_user("eve@example.org", first_name="<script>alert(1)</script>")
    _response, code = request_otp(APIClient(), "eve@example.org")
    message = mail.outbox[-1]
    assert message.to == ["eve@example.org"]
    assert code in message.body and "10 minutes" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and code in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "Smith &amp; &lt;Sons&gt;" in html


def test_reference_exploit_reset_without_token_is_impossible(operator, request_otp):
    """The reference reset any verified account given only its e-mail. Here a token is required, bound to
    the e-mail it was issued for, and guessing does not help."""
    victim_client = APIClient()
    _response, code = request_otp(victim_client, operator.email)
    victim_token = verify(victim_client, operator.email, code).json()["reset_token"]

    attacker = APIClient()
    no_token = attacker.post(
        "/api/auth/reset-password/",
        {"email": operator.email, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
        format="json",
    )
    assert no_token.status_code == 400 and "reset_token" in no_token.json()
    for guess in ("", "x" * 43, "null", victim_token[:-1] + ("A" if victim_token[-1] != "A" else "B")):
        response = reset(attacker, operator.email, guess)
        assert response.status_code == 400
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)

    # A token earned for the attacker's own account does not reset the victim's.
    attacker_user = User.objects.create_user("mallory@example.org", PASSWORD)
    _response, own_code = request_otp(attacker, attacker_user.email)
    own_token = verify(attacker, attacker_user.email, own_code).json()["reset_token"]
    response = reset(attacker, operator.email, own_token)
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid or expired reset token.", "code": "reset_token_invalid"}
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert reset(victim_client, operator.email, victim_token).status_code == 200


def test_unknown_and_known_emails_get_identical_answers(operator, make_user, request_otp):
    make_user("sleeping@example.org", is_active=False)
    answers, codes = {}, {}
    for email in (operator.email, "nobody@example.org", "sleeping@example.org"):
        before = len(mail.outbox)
        response, codes[email] = request_otp(APIClient(), email)
        answers[email] = (response.status_code, response.json(), len(mail.outbox) - before)
    assert (
        answers[operator.email][:2]
        == answers["nobody@example.org"][:2]
        == answers["sleeping@example.org"][:2]
    )
    assert [sent for *_, sent in answers.values()] == [1, 0, 0]
    # Verification behaves the same too.
    a = verify(APIClient(), "nobody@example.org", "123456").json()
    b = verify(
        APIClient(), operator.email, "000000" if codes[operator.email] != "000000" else "111111"
    ).json()
    assert a["detail"] == b["detail"] and a["attempts_remaining"] == b["attempts_remaining"] == 4


def test_cooldown_and_hourly_cap_apply_to_unknown_accounts_too(request_otp, settings):
    client = APIClient()
    for email in ("ghost@example.org", "GHOST@example.org"):
        response, _ = request_otp(client, email)
        if email == "ghost@example.org":
            assert response.status_code == 200
        else:  # same account (case-insensitive), within 60 s
            assert response.status_code == 429
            body = response.json()
            assert 0 < body["retry_after"] <= 60 and body["remaining_requests"] == 4
            assert response["Retry-After"] == str(body["retry_after"])
    settings.PASSWORD_RESET_OTP_COOLDOWN = 0  # isolate the hourly cap
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "forgot_password_account": (2, 3600)}
    other = "phantom@example.org"
    assert request_otp(client, other)[0].json()["remaining_requests"] == 1
    assert request_otp(client, other)[0].json()["remaining_requests"] == 0
    capped, _ = request_otp(client, other)
    assert capped.status_code == 429 and capped.json()["remaining_requests"] == 0
    assert 3500 < capped.json()["retry_after"] <= 3600


def test_otp_attempt_cap_destroys_the_code(operator, request_otp):
    client = APIClient()
    _response, code = request_otp(client, operator.email)
    wrong = "000000" if code != "000000" else "111111"
    for remaining in (4, 3, 2, 1, 0):
        response = verify(client, operator.email, wrong)
        assert response.status_code == 400
        assert response.json()["detail"] == "Invalid or expired OTP."
        assert response.json()["attempts_remaining"] == remaining
    locked = verify(client, operator.email, code)  # even the right code is now refused
    assert locked.status_code == 403
    assert locked.json()["detail"] == "Too many incorrect attempts. Please request a new OTP."
    assert not PasswordResetOTP.objects.filter(email=operator.email).exists()
    assert verify(client, operator.email, code).status_code == 400


def test_new_request_invalidates_previous_code_and_token(operator, request_otp, settings):
    settings.PASSWORD_RESET_OTP_COOLDOWN = 0
    client = APIClient()
    _response, first_code = request_otp(client, operator.email)
    token = verify(client, operator.email, first_code).json()["reset_token"]
    _response, second_code = request_otp(client, operator.email)
    assert reset(client, operator.email, token).status_code == 400  # token from before the new request
    _response, third_code = request_otp(client, operator.email)
    if second_code != third_code:
        assert verify(client, operator.email, second_code).status_code == 400
    assert verify(client, operator.email, third_code).status_code == 200


def test_expired_code_and_token(operator, request_otp):
    client = APIClient()
    _response, code = request_otp(client, operator.email)
    PasswordResetOTP.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert verify(client, operator.email, code).json()["attempts_remaining"] == 0
    PasswordResetOTP.objects.update(expires_at=timezone.now() + timedelta(minutes=5))
    token = verify(client, operator.email, code).json()["reset_token"]
    PasswordResetToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reset(client, operator.email, token).json()["code"] == "reset_token_invalid"


def test_password_errors_do_not_consume_the_token(operator, request_otp):
    client = APIClient()
    _response, code = request_otp(client, operator.email)
    token = verify(client, operator.email, code).json()["reset_token"]
    weak = reset(client, operator.email, token, password="12345678")
    assert weak.status_code == 400 and "new_password" in weak.json()
    similar = reset(client, operator.email, token, password="operator1")  # too close to the e-mail
    assert similar.status_code == 400 and "new_password" in similar.json()
    mismatch = reset(client, operator.email, token, confirm="Different-lantern-11")
    assert mismatch.status_code == 400 and "new_password" in mismatch.json()
    assert PasswordResetToken.objects.filter(email=operator.email).exists()
    assert reset(client, operator.email, token).status_code == 200


def test_otp_field_validation(api_client):
    assert (
        api_client.post(
            "/api/auth/verify-otp/", {"email": "a@example.org", "otp": "12"}, format="json"
        ).status_code
        == 400
    )
    response = api_client.post("/api/auth/forgot-password/", {"email": "nope"}, format="json")
    assert response.status_code == 400 and "email" in response.json()


def test_otp_task_is_idempotent(operator):
    otp = PasswordResetOTP.objects.create(
        email=operator.email, expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert services.send_password_reset_otp(str(otp.pk)) is True
    assert services.send_password_reset_otp(str(otp.pk)) is False  # redelivery: no second mail
    assert len(mail.outbox) == 1


def test_purge_expired_resets(operator):
    past, future = timezone.now() - timedelta(seconds=1), timezone.now() + timedelta(minutes=5)
    PasswordResetOTP.objects.create(email="a@example.org", expires_at=past)
    PasswordResetOTP.objects.create(email="b@example.org", expires_at=future)
    PasswordResetToken.objects.create(email="a@example.org", token_hash="a" * 64, expires_at=past)
    from accounts.tasks import purge_password_resets

    assert purge_password_resets() == 2
    assert list(PasswordResetOTP.objects.values_list("email", flat=True)) == ["b@example.org"]
