"""``mlscope.exceptions``: MLflow's exception names, so ``except mlflow.exceptions.MlflowException`` carries over.

Every error mlscope's client raises is an ``MlflowException`` (``error_code`` is MLflow's
name for why, e.g. ``RESOURCE_DOES_NOT_EXIST``); errors a tracking server answers are
``RestException``s worded as MLflow words them (``"<ERROR_CODE>: <message>"``).
"""

from __future__ import annotations

from .store.errors import StoreError as MlflowException
from .tracking.rest import RestException
from .tracking.unsupported import UnsupportedFeatureError

MlscopeException = MlflowException

__all__ = ["MlflowException", "MlscopeException", "RestException", "UnsupportedFeatureError"]
