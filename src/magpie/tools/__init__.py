"""Tools the model can use: built-in ones, MCP servers, permissions and confirmations."""
