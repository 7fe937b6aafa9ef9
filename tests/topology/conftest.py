"""The S3 fixtures of tests/archive (a moto server on loopback) for the topology tests."""

from tests.archive.conftest import moto_s3, s3  # noqa: F401
