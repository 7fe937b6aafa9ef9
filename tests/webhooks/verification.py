import hashlib
import hmac
import re
import time

TOLERANCE_S = 300  # refuse requests signed more than 5 minutes ago (or ahead)


def verify_dpa_webhook(secret: str, timestamp: str, signature: str, raw_body: bytes) -> bool:
    """True if dpa-service sent this request. Pass the X-DPA-Timestamp and X-DPA-Signature
    headers and the raw request body exactly as received, before any JSON parsing."""
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):  # digits only, no sign or exotic digits
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_S:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256)
    expected = "v1=" + mac.hexdigest()
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))
