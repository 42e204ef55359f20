"""The `mirobody` command: the top of the stack (indicators <- providers <- mirobody_assets <- api
<- mirobody). It starts the whole system, migrates, serves MCP over stdio and manages webhook
URLs; it may import every layer, and no layer imports it."""
