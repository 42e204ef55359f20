"""Oura provider plugin (entry point `oura = providers.oura:OuraProvider`)."""

from providers.oura.provider import OuraProvider

__all__ = ["OuraProvider"]
