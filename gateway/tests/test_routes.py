"""The route table and the merged API document, as plain functions."""

from wayfare_gateway.openapi import merge
from wayfare_gateway.routes import Limit, match


def test_prefixes_respect_segment_boundaries():
    assert match("GET", "/api/v1/users/me").upstream == "auth"
    assert match("GET", "/api/v1/usersx") is None
    assert match("GET", "/api/v1/admin").admin_only
    assert match("POST", "/api/v1/coupons").admin_only
    assert not match("GET", "/api/v1/bookings").admin_only


def test_internal_and_dot_segments_are_never_routed():
    for path in (
        "/internal/holds",
        "/api/v1/bookings/internal/x",
        "/api/v1/flights/../admin",
        "/api/v1/flights/./search",
    ):
        assert match("GET", path) is None, path


def test_public_routes_are_exact_by_method():
    assert match("POST", "/api/v1/auth/login").public
    assert match("GET", "/api/v1/flights/search").public
    assert not match("POST", "/api/v1/flights").public  # staff create a flight
    assert not match("POST", "/api/v1/auth/logout").public
    assert match("POST", "/api/v1/auth/login").limit is Limit.LOGIN
    assert match("POST", "/api/v1/auth/password/forgot").limit is Limit.PASSWORD_RESET


def test_merge_keeps_routed_paths_and_renames_clashing_schemas():
    def doc(schema_title, path):
        return {
            "paths": {
                path: {
                    "get": {
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/Item"}
                                    }
                                }
                            }
                        }
                    }
                },
                "/internal/holds": {"post": {}},
                "/healthz": {"get": {}},
            },
            "components": {"schemas": {"Item": {"title": schema_title}}},
        }

    merged = merge(
        {
            "flight": doc("Flight", "/api/v1/flights/{id}"),
            "booking": doc("Booking", "/api/v1/bookings/{id}"),
        },
        "Wayfare API",
        "1",
    )
    assert set(merged["paths"]) == {"/api/v1/flights/{id}", "/api/v1/bookings/{id}"}
    booking_ref = merged["paths"]["/api/v1/bookings/{id}"]["get"]["responses"]["200"]
    assert (
        booking_ref["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/booking_Item"
    )
    assert merged["components"]["schemas"]["Item"] == {"title": "Flight"}
    assert merged["components"]["schemas"]["booking_Item"] == {"title": "Booking"}
