"""Request and response bodies."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from wayfare_auth.domain.accounts import check_phone, normalise_email

Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(normalise_email)]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(check_phone)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Bounded so that nobody makes the server hash megabytes; the policy's limit is 128.
Password = Annotated[str, StringConstraints(max_length=1024)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Role = Literal["customer", "vendor", "admin"]


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class RegisterIn(BaseModel):
    # Refuse, rather than ignore, fields a registrant may not set (role, is_active ...).
    model_config = ConfigDict(extra="forbid") | _examples(
        {
            "email": "ada@example.com",
            "password": "Analytical-Engine-1843",
            "full_name": "Ada Lovelace",
            "phone": "+441632960961",
        }
    )

    email: Email
    password: Password
    full_name: FullName
    phone: Phone | None = None


# An address as typed: no address is longer (RFC 5321), and the columns that record one
# (failed logins) hold no more.
TypedEmail = Annotated[str, StringConstraints(max_length=254)]


class LoginIn(BaseModel):
    model_config = _examples({"email": "ada@example.com", "password": "Analytical-Engine-1843"})

    email: TypedEmail
    password: Password


class TokensOut(BaseModel):
    """DESIGN §7's token shape."""

    model_config = _examples(
        {
            "access_token": "eyJhbGciOiJSUzI1NiIs...",
            "refresh_token": "q3V9...",
            "token_type": "bearer",
            "expires_in": 900,
        }
    )

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class MfaRequiredOut(BaseModel):
    """The password was right; send the mfa_token and a code to /api/v1/auth/login/2fa."""

    mfa_required: Literal[True] = True
    mfa_token: str
    expires_in: int


class MfaLoginIn(BaseModel):
    model_config = _examples({"mfa_token": "eyJhbGciOiJSUzI1NiIs...", "code": "123456"})

    mfa_token: Token
    code: Code = Field(description="A 6-digit TOTP code, or one of the backup codes.")


class RefreshIn(BaseModel):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class TokenIn(BaseModel):
    token: Token


class EmailIn(BaseModel):
    email: TypedEmail


class ResetIn(BaseModel):
    token: Token
    password: Password


class ChangePasswordIn(BaseModel):
    current_password: Password
    new_password: Password


class AcceptedOut(BaseModel):
    detail: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    phone: str | None
    role: Role
    is_active: bool
    email_verified: bool
    totp_enabled: bool
    created_at: datetime


class ProfilePatch(BaseModel):
    """Only these fields; anything else is refused (`field_not_editable`)."""

    model_config = ConfigDict(
        extra="allow", json_schema_extra={"examples": [{"full_name": "Ada King"}]}
    )

    full_name: FullName | None = None
    phone: Phone | None = None

    @field_validator("full_name")
    @classmethod
    def _name_stays(cls, value: str | None) -> str:
        # Runs only when the field is sent: leaving it out keeps the name, null cannot.
        if value is None:
            raise ValueError("a name is required; leave the field out to keep it")
        return value


class RoleIn(BaseModel):
    role: Role


class TotpSetupOut(BaseModel):
    secret: str = Field(description="Base32, for typing into an authenticator by hand.")
    otpauth_uri: str
    qr_png: str = Field(description="The otpauth URI as a QR code: a data: URI of a PNG image.")


class CodeIn(BaseModel):
    code: Code


class BackupCodesOut(BaseModel):
    backup_codes: list[str] = Field(description="Shown once; each works once.")


class DisableTotpIn(BaseModel):
    password: Password
    code: Code
