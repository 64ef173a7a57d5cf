"""The ASGI app uvicorn serves (`escuta api`): settings from the environment."""

from __future__ import annotations

from control_api.app import create_app

app = create_app()
