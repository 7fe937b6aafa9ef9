"""What the pages' forms share."""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.params import Body

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
