"""Vendor plugins (one folder each, registered under the `mirobody.providers` entry points),
the provider contract, registry, OAuth strategies, HTTP client and vectorised formatting, and
the sandbox vendor cloud. See README.md."""
