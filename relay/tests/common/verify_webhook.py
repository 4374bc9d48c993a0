"""An independent Standard Webhooks verifier, written from the specification with
Python's standard library only (not from the relay's code).

Reads {"secret", "headers", "body", "now"} as JSON on stdin; prints "valid", or
"invalid: <why>" and exits 1.
"""

import base64
import hashlib
import hmac
import json
import sys

TOLERANCE_SECONDS = 5 * 60


def verify(secret, headers, body, now):
    headers = {name.lower(): value for name, value in headers.items()}
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if name not in headers:
            return "missing " + name
    try:
        timestamp = int(headers["webhook-timestamp"])
    except ValueError:
        return "timestamp is not a number"
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return "timestamp outside the tolerance"
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_"):]
    key = base64.b64decode(secret)
    signed = f"{headers['webhook-id']}.{timestamp}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for versioned in headers["webhook-signature"].split(" "):
        version, _, signature = versioned.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return None
    return "no signature matches"


def main():
    given = json.load(sys.stdin)
    why = verify(given["secret"], given["headers"], given["body"], given["now"])
    if why is None:
        print("valid")
    else:
        print("invalid: " + why)
        sys.exit(1)


main()
