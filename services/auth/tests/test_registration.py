"""Registration: the password policy, unique emails, and the events a new account sends."""

import pytest

from auth_support import PASSWORD, login, new_email, register, token_from_link


@pytest.mark.parametrize(
    ("password", "email", "rules"),
    [
        (
            "short",
            "kim@example.com",
            {
                "password_too_short",
                "password_no_uppercase",
                "password_no_digit",
                "password_no_special",
            },
        ),
        ("alllowercase-but-long-1", "kim@example.com", {"password_no_uppercase"}),
        ("ALLUPPERCASE-BUT-LONG-1", "kim@example.com", {"password_no_lowercase"}),
        ("No-Digits-At-All-Here", "kim@example.com", {"password_no_digit"}),
        ("NoSpecialCharacters123", "kim@example.com", {"password_no_special"}),
        ("Aa1!" + "x" * 125, "kim@example.com", {"password_too_long"}),
        ("My-AdaLovelace-1843", "adalovelace@example.com", {"password_contains_email"}),
    ],
)
async def test_weak_passwords_are_refused_with_a_field_error_per_broken_rule(
    client, password, email, rules
):
    email = email.replace("@", f"+{new_email()[:12]}@") if "ada" not in email else email
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "full_name": "Kim"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "weak_password"
    assert {error["field"] for error in problem["errors"]} == {"body.password"}
    assert {error["type"] for error in problem["errors"]} == rules


async def test_the_email_local_part_is_refused_whatever_its_case(client):
    email = f"Grace{new_email()[5:15]}@example.com"
    local = email.split("@")[0]
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": f"X1!{local.upper()}yz", "full_name": "Grace"},
    )
    assert response.status_code == 422
    assert [e["type"] for e in response.json()["errors"]] == ["password_contains_email"]


async def test_duplicate_email_is_409_whatever_its_case(client):
    email = new_email()
    await register(client, email)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": PASSWORD, "full_name": "Twin"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_invalid_email_and_phone_are_field_errors(client):
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "not-an-email", "password": PASSWORD, "full_name": "X", "phone": "12345"},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.email", "body.phone"}


async def test_registration_emits_user_registered_and_a_verification_link(client, events):
    email = new_email("Mixed.Case").replace("mixed.case", "Mixed.Case")
    user = await register(client, email, phone="+44 1632 960961")
    assert user["email"] == email.lower()
    assert user["phone"] == "+441632960961"
    assert (user["role"], user["email_verified"], user["is_active"]) == ("customer", False, True)

    registered = await events.wait_for("auth.user_registered", user_id=user["id"])
    assert registered["data"]["email"] == email.lower()
    assert registered["actor"] == {"user_id": user["id"], "role": "customer"}
    mail = await events.wait_for("auth.email_verification_requested", user_id=user["id"])
    assert mail["data"]["verify_url"].startswith("http://wayfare.test/verify-email?token=")

    # Unverified accounts cannot log in; the link verifies once.
    refused = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["code"] == "email_not_verified"
    token = token_from_link(mail["data"]["verify_url"])
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200 and verified.json()["email_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and again.json()["code"] == "invalid_token"
    assert again.json()["reason"] == "used"
    assert (await login(client, email))["token_type"] == "bearer"


async def test_verification_link_can_be_sent_again(client, events):
    user = await register(client, new_email())
    await events.wait_for("auth.email_verification_requested", user_id=user["id"])
    response = await client.post("/api/v1/auth/verify-email/resend", json={"email": user["email"]})
    assert response.status_code == 202
    await events.wait_for("auth.email_verification_requested", count=2, user_id=user["id"])
    unknown = await client.post("/api/v1/auth/verify-email/resend", json={"email": new_email()})
    assert unknown.status_code == 202 and unknown.json() == response.json()


async def test_stored_hash_is_argon2id(client, service):
    import sqlalchemy as sa

    from wayfare_auth.store.models import User

    user = await register(client, new_email())
    async with service.app.state.database.sessions() as session:
        stored = await session.scalar(
            sa.select(User.password_hash).where(User.email == user["email"])
        )
    assert stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    "field", [("role", "admin"), ("is_active", True), ("email_verified", True)]
)
async def test_registration_refuses_privileged_fields_and_creates_nothing(client, field):
    email = new_email("privileged")
    body = {"email": email, "password": PASSWORD, "full_name": "Eve Sneaky", field[0]: field[1]}
    refused = await client.post("/api/v1/auth/register", json=body)
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == [f"body.{field[0]}"]
    # Nothing was stored: the same address can still register, as a plain customer.
    del body[field[0]]
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
