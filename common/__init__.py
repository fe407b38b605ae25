"""Small shared helpers: typed YAML configs with `key=value` overrides, and user-facing errors."""
from common.config import ConfigError, load_config, apply_overrides, config_to_dict
from common.errors import UserError

__all__ = ["ConfigError", "UserError", "load_config", "apply_overrides", "config_to_dict"]
