"""The AI chat: OpenAI-compatible back ends, the MCP tools, encrypted history, SSE answers."""
