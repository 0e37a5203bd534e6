"""python -m services.gateway: the HTTP API on ECP_GATEWAY_HOST:ECP_GATEWAY_PORT."""

import uvicorn

from shared.logging import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    uvicorn.run(
        "services.gateway.app:create_process_app",
        factory=True,
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        # Requests are logged and counted by our own tracing; uvicorn's access lines are off
        # anyway (shared.logging), but it would still build each one's arguments.
        access_log=False,
        ws="websockets-sansio",
        # Compressing each message for each client costs more CPU than the loopback and LAN
        # bytes it saves, and it is what slows a fan-out to many clients.
        ws_per_message_deflate=False,
    )
