#!/usr/bin/env python3
"""
Independent signature vectors for the operator messages (issue #11).

The project signs one-line operator messages in the Solana off-chain message
format (sRFC 3, version 0) with @solana/offchain-messages and @noble/curves.
This script builds the same envelope from the format's description, by hand,
and signs it with OpenSSL's ed25519 through Python's `cryptography` package:
no JavaScript, no Solana library. test/domain/offchain-vectors.test.ts checks
that the project's bytes equal these and that it accepts these signatures.

  python3 scripts/offchain-vectors.py > test/fixtures/offchain-vectors.json

The messages are written here literally (the grammar of
src/domain/operator-message.ts), not produced by the project's code.
"""
import json
import struct
import sys

import cryptography
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


SIGNING_DOMAIN = b"\xffsolana offchain"
# The project's application domain: "pstr-treasury-agent/operator-v1" padded with zeros to 32 bytes.
APPLICATION_DOMAIN = b"pstr-treasury-agent/operator-v1".ljust(32, b"\0")
RESTRICTED_ASCII = 0


def envelope(text: str, signer: bytes) -> bytes:
    body = text.encode("ascii")
    return (SIGNING_DOMAIN + bytes([0]) + APPLICATION_DOMAIN + bytes([RESTRICTED_ASCII, 1]) + signer
            + struct.pack("<H", len(body)) + body)


def key(seed_byte: int):
    k = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    pub = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return k, pub


PLAN = ("pstr-treasury-agent v1; action=approve; treasury=pstr-main; operator=alice; intervention=intervention/pstr-main/3; "
        "plan=1; tier=2; pumpIn=1234567890; minPstrOut=98700000; price=0.00012345; configVersion=4; "
        "expires=2026-12-04T02:00:00.000Z; reason=checked the pool")
REJECT = ("pstr-treasury-agent v1; action=reject; treasury=pstr-main; operator=bob; intervention=intervention/pstr-main/3; "
          "plan=1; tier=2; pumpIn=1234567890; minPstrOut=98700000; price=0.00012345; configVersion=4; "
          "expires=2026-12-04T02:00:00.000Z; reason=too big %3B not now")
PAUSE = ("pstr-treasury-agent v1; action=pause; treasury=pstr-main; operator=bob; nonce=7f3a; "
         "expires=2026-12-04T01:10:00.000Z; reason=maintenance")

vectors = []
for name, text, seed, operator in [("approve-plan", PLAN, 1, "alice"), ("reject-plan", REJECT, 2, "bob"), ("pause", PAUSE, 2, "bob")]:
    k, pub = key(seed)
    msg = envelope(text, pub)
    vectors.append({"name": name, "operator": operator, "seed": seed, "publicKey": b58(pub), "text": text,
                    "envelopeHex": msg.hex(), "signature": b58(k.sign(msg))})

json.dump({
    "note": ("Produced by scripts/offchain-vectors.py: the sRFC-3 off-chain message v0 envelope assembled by hand from the format "
             "(signing domain \\xffsolana offchain, version 0, 32-byte application domain, format 0 = restricted ASCII, "
             "1 signer, u16 LE length, body) and signed with ed25519 by OpenSSL through Python cryptography "
             f"{cryptography.__version__}. Seeds are 32 copies of the byte `seed`. Independent of the project's "
             "@solana/offchain-messages and @noble/curves."),
    "applicationDomainHex": APPLICATION_DOMAIN.hex(),
    "vectors": vectors,
}, sys.stdout, indent=2)
print()
