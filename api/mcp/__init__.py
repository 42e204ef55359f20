"""The MCP server: health tools, resources and prompts for AI agents (HTTP and stdio)."""
