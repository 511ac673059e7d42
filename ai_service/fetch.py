"""Fetching a CV from ``cv_url`` without SSRF (api.md §6, reference-defects S4).

Only http/https; host and port must equal an ``AI_FETCH_ALLOWED_HOSTS`` entry exactly (no DNS games: the
name is compared, not resolved); no userinfo; redirects are not followed; proxies from the environment are not
used; the body is streamed to a file and aborted above the cap; 30 s for the whole download.
"""

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ai_service.config import ConfigError, url_host_entry


class UrlRejected(ValueError):
    """The URL breaks a rule or could not be fetched; the message is safe to return (422)."""


class BodyTooLarge(Exception):
    """The document is larger than the cap (413)."""


def check_url(url: str, allowed_hosts: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRejected("cv_url must be an http or https URL.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UrlRejected("cv_url must not contain credentials.")
    try:
        entry = url_host_entry(url)
    except (ConfigError, ValueError):
        raise UrlRejected("cv_url has no valid host and port.")
    if entry not in allowed_hosts:
        raise UrlRejected("cv_url host is not allowed.")


async def fetch_to_file(
    url: str, dest: Path, *, allowed_hosts: tuple[str, ...], max_bytes: int, timeout: float
) -> int:
    """Download ``url`` into ``dest``; returns the size. Raises UrlRejected or BodyTooLarge."""
    check_url(url, allowed_hosts)
    size = 0
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.is_redirect:
                raise UrlRejected("cv_url redirects; redirects are not followed.")
            if response.status_code != 200:
                raise UrlRejected(f"cv_url answered HTTP {response.status_code}.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise BodyTooLarge()
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise BodyTooLarge()
                    out.write(chunk)
    except TimeoutError:
        raise UrlRejected(f"cv_url did not answer within {timeout:.0f} s.")
    except httpx.HTTPError as exc:
        raise UrlRejected(f"cv_url could not be fetched ({type(exc).__name__}).")
    return size
