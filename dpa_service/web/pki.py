"""Public key infrastructure the service itself publishes: the development CA's CRL, which the
development seal certificate names as its CRL distribution point."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from dpa_service.errors import NotFound
from dpa_service.signing.dev_ca import DEV_CRL_PATH
from dpa_service.signing.seal import Sealer


@get(DEV_CRL_PATH, include_in_schema=False, sync_to_thread=True)
def dev_ca_crl(sealer: NamedDependency[Sealer]) -> Response[bytes]:
    """The development CA's current CRL (DER); 404 where a configured seal is used."""
    crl = sealer.published_crl()
    if crl is None:
        raise NotFound("this service seals with a configured certificate; its CA publishes its CRL")
    return Response(
        crl,
        media_type="application/pkix-crl",
        headers={"Cache-Control": "public, max-age=3600"},
    )
