"""MCP: other servers' tools inside autan (client), and autan's tools for other agents (server)."""
