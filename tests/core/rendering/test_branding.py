import pytest

from core.rendering import Branding, RenderError


def test_valid_branding_resolves_logo(tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG")

    branding = Branding(
        "Agency", logo_path=str(logo), accent_colour="#a1B2c3", contact_line="x", footer_text="y"
    )

    assert branding.logo_file == logo.resolve()
    assert Branding("Agency").logo_file is None


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"agency_name": "  "}, "agency_name must not be empty"),
        ({"agency_name": None}, "agency_name must be a string"),
        ({"accent_colour": "red"}, "accent_colour must be #RRGGBB"),
        ({"accent_colour": "#12345"}, "accent_colour must be #RRGGBB"),
        ({"accent_colour": "#123456; } body { display: none"}, "accent_colour must be #RRGGBB"),
        ({"logo_path": "/nonexistent/logo.png"}, "does not exist"),
        ({"logo_path": "/etc/passwd"}, "must be one of"),
        ({"logo_path": ""}, "non-empty string"),
    ],
)
def test_bad_branding_is_refused_with_a_code(fields, fragment):
    with pytest.raises(RenderError) as caught:
        Branding(**({"agency_name": "Agency"} | fields))

    assert caught.value.code == "invalid_branding"
    assert fragment in caught.value.message
