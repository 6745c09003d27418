"""The Tortoise config aerich's CLI reads (``[tool.aerich]`` in pyproject.toml)."""

from core.settings import get_settings
from server.database import tortoise_config

TORTOISE_ORM = tortoise_config(get_settings())
