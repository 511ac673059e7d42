"""The enhanced-CV HTML. Every value is escaped here; the stylesheet (assets/cv.css) does all the styling.

Jinja2 is not a dependency of the project, so the markup is built by small functions around ``html.escape``:
no value is ever placed in the page without passing through ``_esc``.
"""

from html import escape
from typing import Any

from core.rendering.branding import Branding

# Bump on any change to this markup or to assets/cv.css: it is part of every context hash, so a bump makes the
# regeneration command re-render every enhanced CV.
TEMPLATE_VERSION = "enhanced-cv-1"

# Page-fit estimate for a job (see _fits_on_a_page): a bullet line holds ~95 characters of body text and a
# page body ~50 lines; 40 leaves room for the section heading and for wider scripts.
_CHARS_PER_LINE = 95
_MAX_KEPT_LINES = 40


def render_html(context: dict[str, Any], branding: Branding) -> str:
    """The full HTML document for a canonical context (see ``context.canonical_context``)."""
    body = "".join(
        [
            _running_parts(context, branding),
            _masthead(branding),
            _candidate(context),
            _section("Professional Profile", _paragraphs(context["profile"]), "profile"),
            _section("Employment History", "".join(map(_job, context["employment_history"])), "history"),
            _section("Education &amp; Qualifications", _bullets(context["qualifications"]), "qualifications"),
            _section("Interests", _paragraphs(context["interests"]), "interests"),
            '<p class="references">References available upon request</p>',
        ]
    )
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{_esc(context['given_name'])} – CV</title>"
        f'<meta name="author" content="{_esc(branding.agency_name)}">'
        f"</head><body>{body}</body></html>"
    )


def _running_parts(context: dict[str, Any], branding: Branding) -> str:
    """Elements the stylesheet moves into the page margins (footer, and the header of pages 2+)."""
    return (
        f'<div class="running-footer">{_esc(branding.footer_text)}</div>'
        f'<div class="running-name">{_esc(context["given_name"])}</div>'
        f'<div class="running-agency">{_esc(branding.agency_name)}</div>'
    )


def _masthead(branding: Branding) -> str:
    logo = branding.logo_file
    logo_html = f'<img class="logo" src="{_esc(logo.as_uri())}" alt="">' if logo else ""
    contact = (
        f'<div class="agency-contact">{_esc(branding.contact_line)}</div>' if branding.contact_line else ""
    )
    return (
        f'<header class="masthead">{logo_html}<div class="agency">'
        f'<div class="agency-name">{_esc(branding.agency_name)}</div>{contact}</div></header>'
    )


def _candidate(context: dict[str, Any]) -> str:
    roles = f'<p class="roles">{_esc(context["role_line"])}</p>' if context["role_line"] else ""
    facts = "".join(
        f'<span class="fact"><span class="fact-label">{label}:</span> {_esc(value)}</span>'
        for label, value in (("Location", context["location"]), ("Availability", context["availability"]))
        if value
    )
    facts_html = f'<p class="facts">{facts}</p>' if facts else ""
    name = f'<h1 class="name">{_esc(context["given_name"])}</h1>'
    return f'<section class="candidate">{name}{roles}{facts_html}</section>'


def _section(title: str, content: str, css_class: str) -> str:
    """A titled section, omitted when it has nothing to show (``title`` is template text, never CV data)."""
    if not content:
        return ""
    return f'<section class="block {css_class}"><h2>{title}</h2>{content}</section>'


def _job(job: dict[str, Any]) -> str:
    title = " | ".join(
        part
        for part in (
            f'<span class="company">{_esc(job["company"])}</span>' if job["company"] else "",
            f'<span class="role">{_esc(job["role"])}</span>' if job["role"] else "",
        )
        if part
    )
    dates = f'<span class="dates">{_esc(job["date_range"])}</span>' if job["date_range"] else ""
    head = f'<div class="job-head">{dates}{title}</div>'
    css_class = "job keep" if _fits_on_a_page(job) else "job"
    return f'<article class="{css_class}">{head}{_bullets(job["responsibilities"])}</article>'


def _fits_on_a_page(job: dict[str, Any]) -> bool:
    """Whether a job is short enough to be kept whole on one page (estimated in text lines).

    A job kept whole but taller than a page is pushed to a fresh page and split there anyway (WeasyPrint),
    which strands the heading before it and leaves a blank page foot, so long jobs are allowed to flow.
    """
    lines = 2 + sum(-(-len(item) // _CHARS_PER_LINE) for item in job["responsibilities"])
    return lines <= _MAX_KEPT_LINES


def _bullets(items: list[str]) -> str:
    return f"<ul>{''.join(f'<li>{_esc(item)}</li>' for item in items)}</ul>" if items else ""


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_esc(paragraph)}</p>" for paragraph in text.split("\n\n") if paragraph)


def _esc(value: str) -> str:
    return escape(value, quote=True)
