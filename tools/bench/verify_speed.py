"""Verification speed of the providers' Python sample code (`cryptography`,
that is OpenSSL, for ES256; the standard `hmac` module for HMAC-SHA256) on
the same 1 KiB body the Rust benches use. Prints one JSON object of
microseconds per verification (the median of several timed runs)."""

import hashlib
import hmac
import json
import statistics
import timeit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

BODY = (b'{"event":"version_generated","note":"' + b"x" * 1024)[:1022] + b'"}'
KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC = KEY.public_key()
SIGNATURE = KEY.sign(BODY, ec.ECDSA(hashes.SHA256()))
SECRET = b"whsec_bench_secret_0123456789abcdef"
TAG = hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()


def es256():
    PUBLIC.verify(SIGNATURE, BODY, ec.ECDSA(hashes.SHA256()))


def hmac_sha256():
    hmac.compare_digest(hmac.new(SECRET, BODY, hashlib.sha256).hexdigest(), TAG)


def micros(fn, number):
    runs = timeit.repeat(fn, number=number, repeat=7)
    return statistics.median(runs) / number * 1e6


print(json.dumps({"es256_us": micros(es256, 2000), "hmac_sha256_1KiB_us": micros(hmac_sha256, 20000)}))
