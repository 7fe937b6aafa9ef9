"""Rate limits on the signing pages, codes, verification, staff log-in and objection links.

Litestar's limiter, with its history kept in the app's `rate_limit` store: in memory for one
process, Redis (litestar.stores.redis.RedisStore) when the replicas share one (DPA_REDIS_URL or
DPA_QUEUE_URL), so a client's requests count once whichever replica answers them. Litestar
reads and writes a client's history under a lock of its process only; across replicas the
read and the write hold a short Redis lock too, so two replicas never both count the same
slot. When Redis does not answer, the request goes through (logged): the limit is a brake on
abuse, and signing must not stop with it.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import CacheObject, RateLimitMiddleware
from litestar.stores.redis import RedisStore
from litestar.types import Receive, Scope, Send
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 2.0  # a replica that dies holding the lock holds it this long at most


class SharedRateLimitMiddleware(RateLimitMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["litestar_app"]
        store = self.config.get_store_from_app(app)
        if not isinstance(store, RedisStore):
            await super().__call__(scope, receive, send)
            return
        request: Any = app.request_class(scope)
        if await self.should_check_request(request=request):
            key = self.cache_key_from_request(request)
            counted: CacheObject | None = None
            try:
                lock = store._redis.lock(
                    f"{store.namespace}:lock:{key}",
                    timeout=LOCK_TIMEOUT_S,
                    blocking_timeout=LOCK_TIMEOUT_S,
                )
                async with self._lock, lock:
                    counted = await self.retrieve_cached_history(key, store)
                    if len(counted.history) >= self.max_requests:
                        raise TooManyRequestsException(
                            headers=self.create_response_headers(cache_object=counted)
                            if self.config.set_rate_limit_headers
                            else None
                        )
                    await self.set_cached_history(key=key, cache_object=counted, store=store)
            except (RedisError, LockError, OSError) as exc:
                log.warning("rate limit store unavailable, request let through: %s", exc)
                counted = None
            if counted is not None and self.config.set_rate_limit_headers:
                send = self.create_send_wrapper(send=send, cache_object=counted)
        await self.app(scope, receive, send)
