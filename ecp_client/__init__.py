"""Client SDK of the ECP-AI Orchestrator: `ECPClient`, `AsyncECPClient`, `ECPError`."""

from ecp_client.async_client import AsyncECPClient
from ecp_client.errors import ECPConnectionError, ECPError
from ecp_client.sync_client import ECPClient

__all__ = ["AsyncECPClient", "ECPClient", "ECPConnectionError", "ECPError"]
