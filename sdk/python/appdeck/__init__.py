"""The appdeck SDK: the client openapi-python-client generates from openapi.yaml
(package ``appdeck_api``) and a thin layer over it: errors, pagination,
idempotency keys and rate-limit waits."""

from ._version import __version__
from .client import Appdeck
from .errors import AppdeckError

__all__ = ["Appdeck", "AppdeckError", "__version__"]
