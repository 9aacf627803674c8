"""Interoperability: an MCP server over the exact engines (mcp_server), and MCP servers' tools for the tool agent (mcp_client).

This layer sits beside evals/ and cli: it may import every layer below it (models, solvers,
selection, kit, agents, methods), and nothing below imports it. No module here is named `mcp`:
the repository root is the package and may be on sys.path, where such a name would shadow the SDK.
"""
