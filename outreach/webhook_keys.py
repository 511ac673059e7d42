"""Parsing of the provider's webhook verification key (no Django imports: settings validate the key at start-up).

SendGrid shows the "Signed Event Webhook" verification key as base64 DER (SubjectPublicKeyInfo, ECDSA P-256); a PEM
block is accepted too.
"""

import base64
import binascii
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key


@lru_cache(maxsize=4)
def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The P-256 public key in ``text`` (base64 DER or PEM); ValueError with a readable reason otherwise."""
    text = (text or "").strip()
    if not text:
        raise ValueError("no key given")
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise ValueError("not a base64 DER or PEM public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("the key must be an ECDSA P-256 public key")
    return key
