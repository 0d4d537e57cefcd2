"""Compatibility: the one private upstream path users import (``event.dto.Context``)."""
