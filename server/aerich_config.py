"""The Tortoise config aerich's CLI reads (``[tool.aerich]`` in pyproject.toml)."""

from server.database import tortoise_config
from server.settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings())
